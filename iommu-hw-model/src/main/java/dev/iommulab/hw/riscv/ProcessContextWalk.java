package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.LongLruCache;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;

/**
 * Locates the process context of a {@code process_id}: riscv-iommu "Process to locate the Process-context"
 * (GET_PC); reference/iommu-hardware.md §2.4.1. The PDT has 1, 2 or 3 levels ({@code pdtp.MODE} PD8, PD17,
 * PD20), {@code PDI} split 8/9/3 bits, non-leaf entries of 8 bytes and 16-byte process contexts. When the
 * G-stage is not Bare every PDT address is a GPA: each entry read is an implicit access translated by the
 * G-stage, whose faults are reported as guest-page faults of the original access type. Located contexts
 * are cached per ({@code device_id}, {@code process_id}) until {@code IODIR.INVAL_PDT} or
 * {@code IODIR.INVAL_DDT}.
 */
final class ProcessContextWalk {

    private final PhysicalMemory memory;
    private final ContextChecks checks;
    private final GStage gStage;
    private final LongLruCache<RiscvProcessContext> cache;

    ProcessContextWalk(PhysicalMemory memory, ContextChecks checks, GStage gStage, int cacheEntries) {
        this.memory = memory;
        this.checks = checks;
        this.gStage = gStage;
        this.cache = new LongLruCache<>(cacheEntries);
    }

    /** The cache tag of ({@code did}, {@code pid}): the device ID in the upper 32 bits, the process ID in the lower. */
    static long tag(int did, int pid) {
        return (long) did << 32 | pid & 0xffff_ffffL;
    }

    static int tagDid(long tag) {
        return (int) (tag >> 32);
    }

    static int tagPid(long tag) {
        return (int) tag;
    }

    /**
     * GET_PC for {@code pid} of {@code did} under {@code dc} (PDTV = 1, pdtp not Bare, pid width already
     * checked); {@code as} carries the G-stage, {@code original} the transaction's access type.
     */
    Located<RiscvProcessContext> locate(RiscvDeviceContext dc, AddressSpace as, int did, int pid, Access original) {
        long key = tag(did, pid);
        RiscvProcessContext cached = cache.get(key);
        if (cached != null) {
            return new Located<>(cached, null);
        }
        int levels = dc.fscMode();
        int[] pdi = {pid & 0xff, pid >>> 8 & 0x1ff, pid >>> 17 & 0x7};
        long a = dc.fscRoot();
        for (int i = levels - 1; i > 0; i--) {
            Outcome at = gStage.implicit(as, a + 8L * pdi[i], false, original);
            if (at instanceof Outcome.Fault f) {
                return new Located<>(null, f);
            }
            long entry = ((Outcome.Page) at).addr();
            if (!memory.contains(entry, 8)) {
                return Located.fault(RiscvCause.PDT_LOAD_ACCESS_FAULT, HwFaultReason.PASID_TABLE_FETCH_ERROR);
            }
            long pdte = memory.readLong(entry);
            if ((pdte & RiscvDeviceContext.NON_LEAF_V) == 0) {
                return Located.fault(RiscvCause.PDT_NOT_VALID, HwFaultReason.PASID_ENTRY_NOT_PRESENT);
            }
            if ((pdte & RiscvDeviceContext.NON_LEAF_RESERVED) != 0) {
                return Located.fault(RiscvCause.PDT_MISCONFIGURED, HwFaultReason.PASID_ENTRY_MISCONFIGURED);
            }
            a = RiscvRegs.ppnAddress(pdte);
        }
        Outcome at = gStage.implicit(as, a + (long) RiscvProcessContext.SIZE * pdi[0], false, original);
        if (at instanceof Outcome.Fault f) {
            return new Located<>(null, f);
        }
        long pcAddr = ((Outcome.Page) at).addr();
        if (!memory.contains(pcAddr, RiscvProcessContext.SIZE)) {
            return Located.fault(RiscvCause.PDT_LOAD_ACCESS_FAULT, HwFaultReason.PASID_TABLE_FETCH_ERROR);
        }
        RiscvProcessContext pc = RiscvProcessContext.readFrom(memory, pcAddr);
        if (!pc.has(RiscvProcessContext.TA_V)) {
            return Located.fault(RiscvCause.PDT_NOT_VALID, HwFaultReason.PASID_ENTRY_NOT_PRESENT);
        }
        if (checks.misconfigured(pc)) {
            return Located.fault(RiscvCause.PDT_MISCONFIGURED, HwFaultReason.PASID_ENTRY_MISCONFIGURED);
        }
        cache.put(key, pc);
        return new Located<>(pc, null);
    }

    /** {@code IODIR.INVAL_PDT}: the context of ({@code did}, {@code pid}). */
    void invalidate(int did, int pid) {
        cache.removeIf((k, pc) -> tagDid(k) == did && tagPid(k) == pid);
    }

    /** {@code IODIR.INVAL_DDT}: every process context of {@code did}, or of all devices when {@code all}. */
    void invalidateDevice(boolean all, int did) {
        cache.removeIf((k, pc) -> all || tagDid(k) == did);
    }

    LongLruCache<RiscvProcessContext> cache() {
        return cache;
    }

    int cachedEntries() {
        return cache.size();
    }
}
