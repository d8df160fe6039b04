package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;

/**
 * Reads the legacy-mode structures from memory (RTADDR.TTM = 00b; VT-d spec §3.4.2, §9.1, §9.3; the
 * kernel's {@code struct root_entry} and {@code struct context_entry}): a 16-byte root entry per bus
 * (P, context-table pointer; the upper qword reserved) → a 16-byte context entry per devfn (P, FPD,
 * TT, SLPTPTR; AW and DID in the upper qword), with faults 0x01-0x03 and 0x08-0x0B raised where the spec
 * raises them.
 */
final class LegacyContextWalk {

    private final PhysicalMemory memory;

    LegacyContextWalk(PhysicalMemory memory) {
        this.memory = memory;
    }

    Found<ContextEntry> context(long rtaddr, int rid) {
        long rootAddr = (rtaddr & VtdEntries.ADDR_MASK) + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE;
        if (!memory.contains(rootAddr, VtdEntries.ROOT_ENTRY_SIZE)) {
            return Found.fault(VtdFaultReason.ROOT_TABLE_INVALID, false);
        }
        long root = memory.readLong(rootAddr);
        if ((root & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.ROOT_NOT_PRESENT, false);
        }
        if ((root & VtdEntries.ROOT_RSVD) != 0 || memory.readLong(rootAddr + 8) != 0) {
            return Found.fault(VtdFaultReason.ROOT_RESERVED, false);
        }
        long ctxAddr = (root & VtdEntries.ADDR_MASK) + (long) (rid & 0xff) * VtdEntries.CONTEXT_ENTRY_SIZE;
        if (!memory.contains(ctxAddr, VtdEntries.CONTEXT_ENTRY_SIZE)) {
            return Found.fault(VtdFaultReason.CONTEXT_TABLE_INVALID, false);
        }
        long lo = memory.readLong(ctxAddr);
        long hi = memory.readLong(ctxAddr + 8);
        boolean fpd = (lo & VtdEntries.FPD) != 0;
        if ((lo & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.CONTEXT_NOT_PRESENT, fpd);
        }
        if ((lo & VtdEntries.CTX_LO_RSVD) != 0 || (hi & VtdEntries.CTX_HI_RSVD) != 0) {
            return Found.fault(VtdFaultReason.CONTEXT_RESERVED, false);
        }
        ContextEntry ctx = new ContextEntry(false, lo, hi, fpd);
        if (ctx.tt() > VtdEntries.TT_PASS_THROUGH
                || ctx.tt() != VtdEntries.TT_PASS_THROUGH && VtdSecondStageTable.levelsForAw(ctx.aw()) < 0) {
            return Found.fault(VtdFaultReason.CONTEXT_INVALID, fpd);
        }
        return Found.of(ctx);
    }
}
