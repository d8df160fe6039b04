package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * Reads the scalable-mode structures from memory (RTADDR.TTM = 01b; VT-d spec §3.4, §9.2, §9.4-§9.6):
 * root entry (lower half for devfn 0-127, upper for 128-255) → 32-byte context entry → PASID directory
 * entry (PASID[19:6]) → 64-byte PASID table entry (PASID[5:0]), raising the spec's fault at the step
 * where it is found. No caching here; {@link StructureCaches} sits in front.
 */
final class ContextWalk {

    private final PhysicalMemory memory;

    ContextWalk(PhysicalMemory memory) {
        this.memory = memory;
    }

    /** The context entry of {@code rid} (faults 0x38-0x3A, 0x40-0x42). */
    Found<ContextEntry> context(long rtaddr, int rid) {
        int devfn = rid & 0xff;
        long rootAddr = (rtaddr & VtdEntries.ADDR_MASK) + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE
                + (devfn >= 0x80 ? 8 : 0);
        if (!memory.contains(rootAddr, 8)) {
            return Found.fault(VtdFaultReason.SM_ROOT_ACCESS, false);
        }
        long root = memory.readLong(rootAddr);
        if ((root & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.SM_ROOT_NOT_PRESENT, false);
        }
        if ((root & VtdEntries.ROOT_RSVD) != 0) {
            return Found.fault(VtdFaultReason.SM_ROOT_RESERVED, false);
        }
        long ctxAddr = (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        if (!memory.contains(ctxAddr, VtdEntries.SM_CONTEXT_ENTRY_SIZE)) {
            return Found.fault(VtdFaultReason.SM_CONTEXT_ACCESS, false);
        }
        long lo = memory.readLong(ctxAddr);
        long hi = memory.readLong(ctxAddr + 8);
        boolean fpd = (lo & VtdEntries.FPD) != 0;
        if ((lo & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.SM_CONTEXT_NOT_PRESENT, fpd);
        }
        if ((lo & VtdEntries.SM_CTX_LO_RSVD) != 0 || (hi & VtdEntries.SM_CTX_HI_RSVD) != 0
                || memory.readLong(ctxAddr + 16) != 0 || memory.readLong(ctxAddr + 24) != 0) {
            return Found.fault(VtdFaultReason.SM_CONTEXT_RESERVED, false);
        }
        return Found.of(new ContextEntry(true, lo, hi, fpd));
    }

    /**
     * The PASID entry of {@code pasid} under {@code ctx} (faults 0x50-0x52, 0x58-0x5B). The caller has
     * checked the PASID against the context's PDTS.
     */
    Found<PasidEntry> pasidEntry(ContextEntry ctx, int pasid) {
        boolean fpd = ctx.fpd();
        long dirAddr = ctx.pasidDir() + (long) (pasid >>> VtdEntries.PASID_PDE_SHIFT) * VtdEntries.PASID_DIR_ENTRY_SIZE;
        if (!memory.contains(dirAddr, VtdEntries.PASID_DIR_ENTRY_SIZE)) {
            return Found.fault(VtdFaultReason.SM_PASID_DIR_ACCESS, fpd);
        }
        long pde = memory.readLong(dirAddr);
        fpd |= (pde & VtdEntries.FPD) != 0;
        if ((pde & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.SM_PASID_DIR_NOT_PRESENT, fpd);
        }
        if ((pde & VtdEntries.PASID_DIR_RSVD) != 0) {
            return Found.fault(VtdFaultReason.SM_PASID_DIR_RESERVED, ctx.fpd());
        }
        long peAddr = (pde & VtdEntries.ADDR_MASK)
                + (long) (pasid & ((1 << VtdEntries.PASID_PDE_SHIFT) - 1)) * VtdEntries.PASID_ENTRY_SIZE;
        if (!memory.contains(peAddr, VtdEntries.PASID_ENTRY_SIZE)) {
            return Found.fault(VtdFaultReason.SM_PASID_TABLE_ACCESS, fpd);
        }
        long qw0 = memory.readLong(peAddr);
        boolean dirFpd = fpd;
        fpd |= (qw0 & VtdEntries.FPD) != 0;
        if ((qw0 & VtdEntries.PRESENT) == 0) {
            return Found.fault(VtdFaultReason.SM_PASID_ENTRY_NOT_PRESENT, fpd);
        }
        long qw1 = memory.readLong(peAddr + 8);
        long qw2 = memory.readLong(peAddr + 16);
        if ((qw0 & VtdEntries.PE_QW0_RSVD) != 0 || (qw1 & VtdEntries.PE_QW1_RSVD) != 0
                || (qw2 & VtdEntries.PE_QW2_RSVD) != 0) {
            return Found.fault(VtdFaultReason.SM_PASID_ENTRY_RESERVED, dirFpd);
        }
        PasidEntry pe = new PasidEntry(qw0, qw1, qw2, fpd);
        if (!valid(pe)) {
            return Found.fault(VtdFaultReason.SM_PASID_ENTRY_INVALID, fpd);
        }
        return Found.of(pe);
    }

    /** PGTT must name a translation type; the stages it uses need a valid AW / FLPM. */
    private static boolean valid(PasidEntry pe) {
        int pgtt = pe.pgtt();
        if (pgtt < VtdEntries.PGTT_FIRST_STAGE || pgtt > VtdEntries.PGTT_PASS_THROUGH) {
            return false;
        }
        if (pe.usesSecondStage() && pe.slLevels() < 0) {
            return false;
        }
        return !pe.usesFirstStage() || pe.flLevels() > 0;
    }
}
