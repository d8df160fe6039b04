package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;

/**
 * G-stage translation of a GPA with {@link RiscvPageTable} (riscv-iommu "Process to translate an IOVA"
 * step 19 and the privileged spec's "Guest Physical Address Translation"). Used for the final GPA of a
 * transaction and for the implicit accesses of the first-stage walk and of the PDT walk, whose faults are
 * reported as guest-page faults with the original access type and {@code iotval2} bit 0 set (bit 1 too when
 * the implicit access was the write of an A/D update) — section "Fault/Event-Queue", iotval2.
 * A G-stage walk checks U as for a user access; the spec's {@code GADE} is its hardware A/D update.
 */
final class GStage {

    private final PhysicalMemory memory;

    GStage(PhysicalMemory memory) {
        this.memory = memory;
    }

    /**
     * Translates {@code gpa} for the transaction's own access.
     *
     * @param checkRwx false for an ATS Translation Request: the rights are reported instead
     */
    Outcome translate(AddressSpace as, long gpa, Access access, boolean checkRwx) {
        if (!as.gStage()) {
            return Outcome.Page.identity(gpa);
        }
        RiscvWalkRequest request = new RiscvWalkRequest(access, false, false, as.gade(), checkRwx);
        RiscvWalkResult r = new RiscvPageTable(memory, as.gMode()).walk(as.gRoot(), gpa, request);
        if (r instanceof RiscvWalkResult.Leaf leaf) {
            return Outcome.Page.of(leaf);
        }
        return Outcome.Fault.ofWalk((RiscvWalkResult.Fault) r, access, gpa & ~3L);
    }

    /**
     * Translates the GPA of an implicit access (a first-stage PTE or a PDT entry) to an SPA; a fault is
     * reported with {@code original}, the transaction's access type.
     */
    Outcome implicit(AddressSpace as, long gpa, boolean write, Access original) {
        if (!as.gStage()) {
            return Outcome.Page.identity(gpa);
        }
        Access access = write ? Access.WRITE : Access.READ;
        RiscvWalkRequest request = new RiscvWalkRequest(access, false, false, as.gade(), true);
        RiscvWalkResult r = new RiscvPageTable(memory, as.gMode()).walk(as.gRoot(), gpa, request);
        if (r instanceof RiscvWalkResult.Leaf leaf) {
            return Outcome.Page.of(leaf);
        }
        long iotval2 = gpa & ~3L | RiscvFaultRecord.IOTVAL2_IMPLICIT | (write ? RiscvFaultRecord.IOTVAL2_IMPLICIT_WRITE : 0);
        return Outcome.Fault.ofWalk((RiscvWalkResult.Fault) r, original, iotval2);
    }
}
