package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;

/**
 * The first-stage (VS-stage) walk when the G-stage is not Bare: the privileged spec's "Two-Stage Address
 * Translation", where every first-stage table address is a GPA that the G-stage translates before the PTE
 * is read (an implicit read) and before an A/D update is written (an implicit write). riscv-iommu
 * "Process to translate an IOVA" step 17. {@link dev.iommulab.hw.pgtable.RiscvPageTable} walks a single
 * stage in SPA space; this walk applies the same checks in the same order (see its class comment) with
 * the G-stage in between, so the two agree whenever the G-stage is the identity (tested).
 */
final class NestedFirstStageWalk {

    private final PhysicalMemory memory;
    private final GStage gStage;

    NestedFirstStageWalk(PhysicalMemory memory, GStage gStage) {
        this.memory = memory;
        this.gStage = gStage;
    }

    /** Walks {@code as}'s first stage for {@code iova}; the page's {@code addr} is the GPA. */
    Outcome walk(AddressSpace as, long iova, RiscvWalkRequest request) {
        RiscvPagingMode mode = as.sMode();
        int top = mode.levels() - 1;
        if (!mode.isValidInputAddress(iova)) {
            return fault(top, RiscvWalkResult.Cause.NON_CANONICAL, request, -1);
        }
        long table = as.sRoot();
        boolean global = false;
        for (int level = top; ; level--) {
            long entryGpa = table + 8L * mode.index(iova, level);
            Outcome at = gStage.implicit(as, entryGpa, false, request.access());
            if (at instanceof Outcome.Fault f) {
                return f;
            }
            long entrySpa = ((Outcome.Page) at).addr();
            if (!memory.contains(entrySpa, 8)) {
                return fault(level, RiscvWalkResult.Cause.ACCESS_FAULT, request, entrySpa);
            }
            long pte = memory.readLong(entrySpa);
            RiscvWalkResult.Cause bad = RiscvPageTable.invalidEntry(pte);
            if (bad != null) {
                return fault(level, bad, request, entrySpa);
            }
            global |= (pte & RiscvPte.G) != 0;
            if (RiscvPte.isLeaf(pte)) {
                return leaf(as, level, iova, entryGpa, entrySpa, pte, global, request);
            }
            if ((pte & RiscvPte.NON_LEAF_RESERVED) != 0) {
                return fault(level, RiscvWalkResult.Cause.RESERVED_BITS, request, entrySpa);
            }
            if (level == 0) {
                return fault(level, RiscvWalkResult.Cause.NO_LEAF, request, entrySpa);
            }
            table = RiscvPte.address(pte);
        }
    }

    private Outcome leaf(AddressSpace as, int level, long iova, long entryGpa, long entrySpa, long pte, boolean global,
                         RiscvWalkRequest request) {
        long size = RiscvPagingMode.pageSize(level);
        RiscvWalkResult.Cause cause = RiscvPageTable.leafCause(false, level, pte, request);
        if (cause != null) {
            return fault(level, cause, request, entrySpa);
        }
        long updated = RiscvPageTable.updatedLeaf(pte, request.access());
        if (updated != pte) {
            Outcome writable = gStage.implicit(as, entryGpa, true, request.access());
            if (writable instanceof Outcome.Fault f) {
                return f;
            }
            memory.writeLong(((Outcome.Page) writable).addr(), updated);
        }
        long gpa = RiscvPte.address(updated) | (iova & (size - 1));
        return new Outcome.Page(gpa, gpa, size, (updated & RiscvPte.R) != 0, (updated & RiscvPte.W) != 0,
                (updated & RiscvPte.X) != 0, (updated & RiscvPte.U) != 0, global, (updated & RiscvPte.D) != 0);
    }

    private static Outcome.Fault fault(int level, RiscvWalkResult.Cause cause, RiscvWalkRequest request,
                                       long entryAddr) {
        return Outcome.Fault.ofWalk(new RiscvWalkResult.Fault(RiscvWalkResult.Stage.FIRST_STAGE, level, cause,
                request.access(), entryAddr), request.access(), 0);
    }
}
