package dev.iommulab.hw.pgtable;

import static dev.iommulab.hw.pgtable.RiscvPte.A;
import static dev.iommulab.hw.pgtable.RiscvPte.D;
import static dev.iommulab.hw.pgtable.RiscvPte.R;
import static dev.iommulab.hw.pgtable.RiscvPte.U;
import static dev.iommulab.hw.pgtable.RiscvPte.V;
import static dev.iommulab.hw.pgtable.RiscvPte.W;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Cause;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Fault;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Leaf;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Stage;
import org.junit.jupiter.api.Test;

/**
 * A/D bits. riscv-iommu DC.tc: "If SADE is 1, the IOMMU updates A and D bits in first-stage PTEs
 * atomically. If SADE is 0, the IOMMU causes a page-fault corresponding to the original access type
 * if the A bit is 0 or if the memory access is a store and the D bit is 0"; GADE likewise for G-stage
 * PTEs with guest-page faults. reference/iommu-hardware.md §6 scenario 13 ("RV A/D without HW
 * update"): SADE = 0, A = 0, DMA read → read page fault 13; SADE = 1 → A set atomically, read succeeds.
 */
class RiscvPageTableAccessDirtyTest {

    private static final long VA = 0x0000_0012_3456_7000L;
    private static final long PA = 0x0040_0000L;
    private static final long GPA = 0x0000_0123_4567_8000L;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final RiscvPageTable sv39 = new RiscvPageTable(memory, RiscvPagingMode.SV39);
    private final RiscvPageTable sv39x4 = new RiscvPageTable(memory, RiscvPagingMode.SV39X4);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    private long gStageRoot() {
        long base = (nextFrame + 0x3fff) & ~0x3fffL;
        nextFrame = base + RiscvPagingMode.G_STAGE_ROOT_SIZE;
        return base;
    }

    /** Scenario 13, SADE = 0: a read of a leaf with A = 0 is read page fault 13; memory unchanged. */
    @Test
    void walk_accessedClearWithoutSade_faultsReadPageFault13() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | W | U, this::allocate);

        Fault fault = (Fault) sv39.walk(root, VA, RiscvWalkRequest.user(Access.READ));

        assertThat(fault).isEqualTo(new Fault(Stage.FIRST_STAGE, 0, Cause.ACCESSED_CLEAR, Access.READ, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(13);
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | W | U));
    }

    /** Scenario 13, SADE = 1: the walk sets A in the PTE in memory and the read succeeds, D stays 0. */
    @Test
    void walk_accessedClearWithSade_setsAInMemoryAndSucceeds() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | W | U, this::allocate);

        RiscvWalkResult result = sv39.walk(root, VA + 4, RiscvWalkRequest.user(Access.READ).withHardwareAdUpdate(true));

        assertThat(result).isEqualTo(new Leaf(PA + 4, 4096, 0, true, true, false, true, false, false, pteAddr));
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | W | U | A));
    }

    /** SADE = 0: a store to a leaf with A = 1, D = 0 is store page fault 15; a read of it succeeds. */
    @Test
    void walk_storeWithDirtyClearWithoutSade_faultsStorePageFault15() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | W | U | A, this::allocate);

        Fault fault = (Fault) sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE));

        assertThat(fault).isEqualTo(new Fault(Stage.FIRST_STAGE, 0, Cause.DIRTY_CLEAR, Access.WRITE, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(15);
        assertThat(sv39.walk(root, VA, RiscvWalkRequest.user(Access.READ))).isInstanceOf(Leaf.class);
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | W | U | A));
    }

    /** SADE = 1: a store sets A and D together in memory. */
    @Test
    void walk_storeWithSade_setsAAndDInMemory() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | W | U, this::allocate);

        Leaf leaf = (Leaf) sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE).withHardwareAdUpdate(true));

        assertThat(leaf.dirty()).isTrue();
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | W | U | A | D));
    }

    /** A faulting walk never updates A/D: permission is checked first, so memory is unchanged. */
    @Test
    void walk_permissionFaultWithSade_leavesAdClear() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | U, this::allocate);

        RiscvWalkResult result = sv39.walk(root, VA, RiscvWalkRequest.user(Access.WRITE).withHardwareAdUpdate(true));

        assertThat(result).isEqualTo(new Fault(Stage.FIRST_STAGE, 0, Cause.PERMISSION, Access.WRITE, pteAddr));
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | U));
    }

    /** An ATS-style write request to a read-only page sets A only: D is set only if W is granted. */
    @Test
    void walk_writeRequestWithoutRwxCheckOnReadOnlyPage_setsAOnly() {
        long pteAddr = sv39.map(root, VA, PA, 4096, R | U, this::allocate);

        RiscvWalkRequest ats = RiscvWalkRequest.user(Access.WRITE).withoutRwxCheck().withHardwareAdUpdate(true);
        Leaf leaf = (Leaf) sv39.walk(root, VA, ats);

        assertThat(leaf.writable()).isFalse();
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | U | A));
    }

    /** G-stage, GADE = 0: A = 0 is a guest-page fault (21 read), D = 0 on a store 23. */
    @Test
    void walk_gStageAdClearWithoutGade_faultsGuestPageFault() {
        long groot = gStageRoot();
        long pteAddr = sv39x4.map(groot, GPA, PA, 4096, R | W | U, this::allocate);

        Fault read = (Fault) sv39x4.walk(groot, GPA, RiscvWalkRequest.user(Access.READ));
        assertThat(read).isEqualTo(new Fault(Stage.G_STAGE, 0, Cause.ACCESSED_CLEAR, Access.READ, pteAddr));
        assertThat(read.exceptionCode()).isEqualTo(21);

        memory.writeLong(pteAddr, RiscvPte.encode(PA, V | R | W | U | A));
        Fault write = (Fault) sv39x4.walk(groot, GPA, RiscvWalkRequest.user(Access.WRITE));
        assertThat(write).isEqualTo(new Fault(Stage.G_STAGE, 0, Cause.DIRTY_CLEAR, Access.WRITE, pteAddr));
        assertThat(write.exceptionCode()).isEqualTo(23);
    }

    /** G-stage, GADE = 1: the walk sets A and D in the G-stage PTE in memory. */
    @Test
    void walk_gStageStoreWithGade_setsAAndDInMemory() {
        long groot = gStageRoot();
        long pteAddr = sv39x4.map(groot, GPA, PA, 4096, R | W | U, this::allocate);

        RiscvWalkResult result = sv39x4.walk(groot, GPA + 0x10,
                RiscvWalkRequest.user(Access.WRITE).withHardwareAdUpdate(true));

        assertThat(result).isEqualTo(new Leaf(PA + 0x10, 4096, 0, true, true, false, true, false, true, pteAddr));
        assertThat(memory.readLong(pteAddr)).isEqualTo(RiscvPte.encode(PA, V | R | W | U | A | D));
    }
}
