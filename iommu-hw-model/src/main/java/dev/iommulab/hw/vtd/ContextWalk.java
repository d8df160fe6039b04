package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * Resolves a requester (and PASID) to its scalable-mode context and PASID entries by reading root,
 * context, PASID directory and PASID table from memory, raising the spec's fault at the step where
 * it is found.
 */
final class ContextWalk {

    /** The entries found for a request, or the fault that stopped the walk. */
    record Result(VtdFaultReason fault, boolean fpd, long contextLo, long contextHi, int pasid,
                  long pe0, long pe1, long pe2) {

        static Result fault(VtdFaultReason reason, boolean fpd) {
            return new Result(reason, fpd, 0, 0, -1, 0, 0, 0);
        }

        boolean ok() {
            return fault == null;
        }

        boolean contextHas(long bit) {
            return (contextLo & bit) != 0;
        }

        int pgtt() {
            return (int) ((pe0 & VtdEntries.PE_PGTT_MASK) >>> VtdEntries.PE_PGTT_SHIFT);
        }
    }

    private final PhysicalMemory memory;

    ContextWalk(PhysicalMemory memory) {
        this.memory = memory;
    }

    /** The context entry only (no PASID step). */
    Result context(long rtaddr, int rid) {
        long rootAddr = (rtaddr & VtdEntries.ADDR_MASK) + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE;
        if (!memory.contains(rootAddr, VtdEntries.ROOT_ENTRY_SIZE)) {
            return Result.fault(VtdFaultReason.SM_ROOT_ACCESS, false);
        }
        int devfn = rid & 0xff;
        long root = memory.readLong(rootAddr + (devfn >= 0x80 ? 8 : 0));
        if ((root & VtdEntries.PRESENT) == 0) {
            return Result.fault(VtdFaultReason.SM_ROOT_NOT_PRESENT, false);
        }
        long ctxAddr = (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        if (!memory.contains(ctxAddr, VtdEntries.SM_CONTEXT_ENTRY_SIZE)) {
            return Result.fault(VtdFaultReason.SM_CONTEXT_ACCESS, false);
        }
        long lo = memory.readLong(ctxAddr);
        long hi = memory.readLong(ctxAddr + 8);
        boolean fpd = (lo & VtdEntries.FPD) != 0;
        if ((lo & VtdEntries.PRESENT) == 0) {
            return Result.fault(VtdFaultReason.SM_CONTEXT_NOT_PRESENT, fpd);
        }
        return new Result(null, fpd, lo, hi, -1, 0, 0, 0);
    }

    /**
     * Context and PASID entry for a request. A request without PASID uses the context's RID_PASID.
     */
    Result resolve(long rtaddr, int rid, boolean pasidPresent, int requestPasid) {
        Result ctx = context(rtaddr, rid);
        if (!ctx.ok()) {
            return ctx;
        }
        boolean fpd = ctx.fpd();
        int pasid = pasidPresent ? requestPasid : (int) (ctx.contextHi() & VtdEntries.CTX_RID_PASID_MASK);
        if (pasidPresent && !ctx.contextHas(VtdEntries.CTX_PASIDE)) {
            return Result.fault(VtdFaultReason.SM_CONTEXT_PASIDE_CLEAR, fpd);
        }
        if (pasid >= VtdEntries.pasidLimit(ctx.contextLo())) {
            return Result.fault(VtdFaultReason.SM_PASID_TOO_LARGE, fpd);
        }
        long dirAddr = (ctx.contextLo() & VtdEntries.ADDR_MASK)
                + (long) (pasid >>> VtdEntries.PASID_PDE_SHIFT) * VtdEntries.PASID_DIR_ENTRY_SIZE;
        if (!memory.contains(dirAddr, VtdEntries.PASID_DIR_ENTRY_SIZE)) {
            return Result.fault(VtdFaultReason.SM_PASID_DIR_ACCESS, fpd);
        }
        long pde = memory.readLong(dirAddr);
        fpd |= (pde & VtdEntries.FPD) != 0;
        if ((pde & VtdEntries.PRESENT) == 0) {
            return Result.fault(VtdFaultReason.SM_PASID_DIR_NOT_PRESENT, fpd);
        }
        long peAddr = (pde & VtdEntries.ADDR_MASK)
                + (long) (pasid & ((1 << VtdEntries.PASID_PDE_SHIFT) - 1)) * VtdEntries.PASID_ENTRY_SIZE;
        if (!memory.contains(peAddr, VtdEntries.PASID_ENTRY_SIZE)) {
            return Result.fault(VtdFaultReason.SM_PASID_TABLE_ACCESS, fpd);
        }
        long pe0 = memory.readLong(peAddr);
        fpd |= (pe0 & VtdEntries.FPD) != 0;
        if ((pe0 & VtdEntries.PRESENT) == 0) {
            return Result.fault(VtdFaultReason.SM_PASID_ENTRY_NOT_PRESENT, fpd);
        }
        Result found = new Result(null, fpd, ctx.contextLo(), ctx.contextHi(), pasid, pe0,
                memory.readLong(peAddr + 8), memory.readLong(peAddr + 16));
        int pgtt = found.pgtt();
        if (pgtt != VtdEntries.PGTT_FIRST_STAGE && pgtt != VtdEntries.PGTT_PASS_THROUGH) {
            // Second-stage and nested translation are not modelled yet: reported as an invalid PGTT.
            return Result.fault(VtdFaultReason.SM_PASID_ENTRY_INVALID_PGTT, fpd);
        }
        return found;
    }
}
