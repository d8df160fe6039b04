package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;

/**
 * Steps 17 and 19 of the RISC-V "Process to translate an IOVA" (riscv-iommu "Data Structures"): the first
 * stage turns the IOVA into a GPA, the G-stage the GPA into an SPA. A Bare stage is the identity. With a
 * Bare G-stage the first stage is walked by {@link RiscvPageTable} directly; otherwise by
 * {@link NestedFirstStageWalk}, which translates every first-stage table address through the G-stage.
 * The result's rights are those of both leaves together and its size the smaller page.
 */
final class TwoStageTranslation {

    private final PhysicalMemory memory;
    private final GStage gStage;
    private final NestedFirstStageWalk nested;

    TwoStageTranslation(PhysicalMemory memory) {
        this.memory = memory;
        this.gStage = new GStage(memory);
        this.nested = new NestedFirstStageWalk(memory, gStage);
    }

    GStage gStage() {
        return gStage;
    }

    /**
     * Translates {@code iova} in {@code as} for {@code request} (its access is the transaction's; its
     * {@code hardwareAdUpdate} is ignored: SADE/GADE come from {@code as}).
     */
    Outcome translate(AddressSpace as, long iova, RiscvWalkRequest request) {
        Outcome first = firstStage(as, iova, request.withHardwareAdUpdate(as.sade()));
        if (first instanceof Outcome.Fault) {
            return first;
        }
        Outcome.Page s = (Outcome.Page) first;
        if (!as.gStage()) {
            return s;
        }
        Outcome second = gStage.translate(as, s.gpa(), request.access(), request.checkRwx());
        if (second instanceof Outcome.Fault) {
            return second;
        }
        Outcome.Page g = (Outcome.Page) second;
        if (!as.firstStage()) {
            return new Outcome.Page(g.addr(), iova, g.pageSize(), g.readable(), g.writable(), g.executable(), true,
                    false, g.dirty());
        }
        long size = Math.min(s.pageSize(), g.pageSize());
        return new Outcome.Page(g.addr(), s.gpa(), size, s.readable() && g.readable(), s.writable() && g.writable(),
                s.executable() && g.executable(), s.user(), s.global(), s.dirty() && g.dirty());
    }

    private Outcome firstStage(AddressSpace as, long iova, RiscvWalkRequest request) {
        if (!as.firstStage()) {
            return Outcome.Page.identity(iova);
        }
        if (as.gStage()) {
            return nested.walk(as, iova, request);
        }
        RiscvWalkResult r = new RiscvPageTable(memory, as.sMode()).walk(as.sRoot(), iova, request);
        if (r instanceof RiscvWalkResult.Leaf leaf) {
            return Outcome.Page.of(leaf);
        }
        return Outcome.Fault.ofWalk((RiscvWalkResult.Fault) r, request.access(), 0);
    }
}
