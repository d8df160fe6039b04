package dev.iommulab.hw.pgtable;

import static dev.iommulab.hw.pgtable.RiscvPte.A;
import static dev.iommulab.hw.pgtable.RiscvPte.D;
import static dev.iommulab.hw.pgtable.RiscvPte.R;
import static dev.iommulab.hw.pgtable.RiscvPte.U;
import static dev.iommulab.hw.pgtable.RiscvPte.W;
import static dev.iommulab.hw.pgtable.RiscvPte.X;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Cause;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Fault;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Leaf;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Stage;
import org.junit.jupiter.api.Test;

/**
 * First-stage leaf checks: the U bit (privileged spec step 6 with the RISC-V IOMMU's privilege: a
 * request is user unless its PASID has "Privilege Mode Requested"; riscv-iommu PC.ta "ENS"/"SUM":
 * supervisor access to U = 1 pages needs SUM, and supervisor execute of a U = 1 page always faults)
 * and R/W/X (step 8). Every such fault is a page fault "corresponding to the original access type"
 * (reference/iommu-hardware.md §2.4.1: 12/13/15, used for permission too).
 */
class RiscvPageTablePermissionTest {

    private static final long VA = 0x0000_0012_3456_7000L;
    private static final long PA = 0x0040_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final RiscvPageTable sv39 = new RiscvPageTable(memory, RiscvPagingMode.SV39);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    private long mapLeaf(long flags) {
        return sv39.map(root, VA, PA, 4096, flags | A | D, this::allocate);
    }

    private static Fault fault(Cause cause, Access access, long pteAddr) {
        return new Fault(Stage.FIRST_STAGE, 0, cause, access, pteAddr);
    }

    /** A user request to a U = 0 page faults (13 for a read). */
    @Test
    void walk_userRequestToSupervisorPage_faultsPrivilege() {
        long pteAddr = mapLeaf(R | W);

        Fault fault = (Fault) sv39.walk(root, VA, RiscvWalkRequest.user(Access.READ));

        assertThat(fault).isEqualTo(fault(Cause.PRIVILEGE, Access.READ, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(13);
    }

    /** A supervisor request to a U = 0 page is allowed. */
    @Test
    void walk_supervisorRequestToSupervisorPage_returnsLeaf() {
        long pteAddr = mapLeaf(R | W);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.WRITE, false))).isEqualTo(
                new Leaf(PA, 4096, 0, true, true, false, false, false, true, pteAddr));
    }

    /** SUM = 0: a supervisor read or write of a U = 1 page faults (15 for the write). */
    @Test
    void walk_supervisorRequestToUserPageWithoutSum_faultsPrivilege() {
        long pteAddr = mapLeaf(R | W | U);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.READ, false)))
                .isEqualTo(fault(Cause.PRIVILEGE, Access.READ, pteAddr));
        Fault write = (Fault) sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.WRITE, false));
        assertThat(write).isEqualTo(fault(Cause.PRIVILEGE, Access.WRITE, pteAddr));
        assertThat(write.exceptionCode()).isEqualTo(15);
    }

    /** SUM = 1 lets a supervisor read and write a U = 1 page. */
    @Test
    void walk_supervisorRequestToUserPageWithSum_returnsLeaf() {
        mapLeaf(R | W | U);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.READ, true))).isInstanceOf(Leaf.class);
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.WRITE, true))).isInstanceOf(Leaf.class);
    }

    /** Supervisor execute of a U = 1 page faults whatever SUM says (12). */
    @Test
    void walk_supervisorExecuteOfUserPage_faultsEvenWithSum() {
        long pteAddr = mapLeaf(R | X | U);

        Fault fault = (Fault) sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.EXEC, true));

        assertThat(fault).isEqualTo(fault(Cause.PRIVILEGE, Access.EXEC, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(12);
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.EXEC))).isInstanceOf(Leaf.class);
    }

    /** Step 8: a write to a read-only page faults PERMISSION (15). */
    @Test
    void walk_writeToReadOnlyPage_faultsPermission() {
        long pteAddr = mapLeaf(R | U);

        Fault fault = (Fault) sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE));

        assertThat(fault).isEqualTo(fault(Cause.PERMISSION, Access.WRITE, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(15);
    }

    /** Step 8: execute needs X, read needs R (no MXR for IOMMU requests). */
    @Test
    void walk_executeWithoutXOrReadWithoutR_faultsPermission() {
        long pteAddr = mapLeaf(R | W | U);
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.EXEC)))
                .isEqualTo(fault(Cause.PERMISSION, Access.EXEC, pteAddr));

        memory.writeLong(pteAddr, RiscvPte.encode(PA, RiscvPte.V | X | U | A | D));
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.READ)))
                .isEqualTo(fault(Cause.PERMISSION, Access.READ, pteAddr));
    }

    /** The U check comes before R/W/X: a user write to a read-only supervisor page is PRIVILEGE. */
    @Test
    void walk_userWriteToReadOnlySupervisorPage_reportsPrivilegeFirst() {
        long pteAddr = mapLeaf(R);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE)))
                .isEqualTo(fault(Cause.PRIVILEGE, Access.WRITE, pteAddr));
    }

    /**
     * Without the R/W/X check (an ATS Translation Request, riscv-iommu ATS_FAULTS) a write request to
     * a read-only page returns the leaf with its rights, and the U rule still applies.
     */
    @Test
    void walk_withoutRwxCheck_returnsRightsInsteadOfFaulting() {
        long pteAddr = mapLeaf(R | U);

        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE).withoutRwxCheck())).isEqualTo(
                new Leaf(PA, 4096, 0, true, false, false, true, false, true, pteAddr));
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.supervisor(Access.WRITE, false).withoutRwxCheck()))
                .isEqualTo(fault(Cause.PRIVILEGE, Access.WRITE, pteAddr));
    }
}
