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
 * G-stage Sv39x4/Sv48x4 walks. Derives from the RISC-V Privileged Architecture, hypervisor
 * "Guest Physical Address Translation" (the x4 schemes: 2 extra GPA bits indexing a 16 KiB root; GPA
 * bits above the width must be zero, else a guest-page fault; "all memory accesses are considered to
 * be user-level accesses" for the U check) and riscv-iommu ("When checking the U bit in a
 * second-stage PTE, the transaction is treated as not requesting supervisor privilege"; iohgatp root
 * of 16 KiB); reference/iommu-hardware.md §2.4.1.
 */
class RiscvGStageTableTest {

    private static final long PA = 0x0040_0000L;
    private static final long LEAF = R | W | U | A | D;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final RiscvPageTable sv39x4 = new RiscvPageTable(memory, RiscvPagingMode.SV39X4);
    private long nextFrame = 0x10_0000;
    private final long root = 0x8_0000;

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    /**
     * GPA bits 40:39 select one of the four 4 KiB pages of the 16 KiB root: a GPA with bits 40:30 =
     * 0x7ff uses root entry 2047, at root + 0x3ff8, not a wrapped entry in the first 4 KiB.
     */
    @Test
    void map_gpaInTopQuarter_usesRootEntryBeyondFirstPage() {
        long gpa = 0x7ffL << 30;

        sv39x4.map(root, gpa, PA, 4096, LEAF, this::allocate);

        long rootEntry = memory.readLong(root + 0x3ff8);
        assertThat(rootEntry & 0x3ff).isEqualTo(V);
        assertThat(memory.readLong(root + 8L * 0x1ff)).isZero();
        assertThat(sv39x4.entryAddress(root, gpa, 2)).isEqualTo(root + 0x3ff8);
    }

    /** Four GPAs that differ only in bits 40:39 land in four distinct root entries and translate apart. */
    @Test
    void walk_gpasDifferingInBits40To39_translateThroughDistinctRootEntries() {
        for (long quarter = 0; quarter < 4; quarter++) {
            long gpa = quarter << 39;
            long pteAddr = sv39x4.map(root, gpa, PA + quarter * 4096, 4096, LEAF, this::allocate);

            assertThat(sv39x4.entryAddress(root, gpa, 2)).isEqualTo(root + quarter * 4096);
            assertThat(sv39x4.walk(root, gpa + 0x20, RiscvWalkRequest.user(Access.READ))).isEqualTo(
                    new Leaf(PA + quarter * 4096 + 0x20, 4096, 0, true, true, false, true, false, true, pteAddr));
        }
    }

    /** A GPA with a bit set at or above bit 41 is a guest-page fault (21 read) before any read. */
    @Test
    void walk_gpaNotZeroExtended_faultsGuestPageFault() {
        Fault fault = (Fault) sv39x4.walk(root, 1L << 41, RiscvWalkRequest.user(Access.READ));

        assertThat(fault).isEqualTo(new Fault(Stage.G_STAGE, 2, Cause.GPA_TOO_WIDE, Access.READ, -1));
        assertThat(fault.exceptionCode()).isEqualTo(21);
        assertThat(((Fault) sv39x4.walk(root, -4096L, RiscvWalkRequest.user(Access.EXEC))).cause())
                .isEqualTo(Cause.GPA_TOO_WIDE);
    }

    /** Every G-stage leaf needs U = 1: U = 0 faults even for a supervisor transaction (23 write). */
    @Test
    void walk_gStageLeafWithoutU_faultsEvenForSupervisor() {
        long gpa = 0x0000_0100_0020_0000L;
        long pteAddr = sv39x4.map(root, gpa, PA, 4096, R | W | A | D, this::allocate);

        Fault fault = (Fault) sv39x4.walk(root, gpa, RiscvWalkRequest.supervisor(Access.WRITE, true));

        assertThat(fault).isEqualTo(new Fault(Stage.G_STAGE, 0, Cause.PRIVILEGE, Access.WRITE, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(23);
    }

    /** With U = 1 a supervisor transaction passes the G-stage U check (it is taken as user). */
    @Test
    void walk_gStageUserLeafForSupervisor_returnsLeaf() {
        long gpa = 0x0000_0100_0020_0000L;
        sv39x4.map(root, gpa, PA, 4096, LEAF, this::allocate);

        assertThat(sv39x4.walk(root, gpa, RiscvWalkRequest.supervisor(Access.READ, false))).isInstanceOf(Leaf.class);
    }

    /** A 1 GiB G-stage superpage sits in the 16 KiB root; misalignment is a guest-page fault. */
    @Test
    void walk_gStageGigapage_returnsLevel2LeafAndFaultsWhenMisaligned() {
        long gpa = 0x1ffL << 31;
        long pteAddr = sv39x4.map(root, gpa, 1L << 30, 1L << 30, LEAF, this::allocate);

        assertThat(pteAddr).isEqualTo(root + 8L * (0x1ffL << 1));
        assertThat(sv39x4.walk(root, gpa + 0x123, RiscvWalkRequest.user(Access.READ))).isEqualTo(
                new Leaf((1L << 30) + 0x123, 1L << 30, 2, true, true, false, true, false, true, pteAddr));

        memory.writeLong(pteAddr, RiscvPte.encode((1L << 30) + (2L << 20), LEAF | V));
        Fault fault = (Fault) sv39x4.walk(root, gpa, RiscvWalkRequest.user(Access.EXEC));
        assertThat(fault).isEqualTo(new Fault(Stage.G_STAGE, 2, Cause.MISALIGNED_SUPERPAGE, Access.EXEC, pteAddr));
        assertThat(fault.exceptionCode()).isEqualTo(20);
    }

    /** Sv48x4: 50-bit GPAs, root index = GPA[49:39] (11 bits), bit 50 invalid. */
    @Test
    void walk_sv48x4_indexesRootWithGpaBits49To39() {
        RiscvPageTable sv48x4 = new RiscvPageTable(memory, RiscvPagingMode.SV48X4);
        long root48 = 0xc_0000;
        long gpa = (0x600L << 39) | 0x5000;
        long pteAddr = sv48x4.map(root48, gpa, PA, 4096, LEAF, this::allocate);

        assertThat(sv48x4.entryAddress(root48, gpa, 3)).isEqualTo(root48 + 8L * 0x600);
        assertThat(sv48x4.walk(root48, gpa, RiscvWalkRequest.user(Access.READ))).isEqualTo(
                new Leaf(PA, 4096, 0, true, true, false, true, false, true, pteAddr));
        assertThat(sv48x4.walk(root48, 1L << 50, RiscvWalkRequest.user(Access.READ)))
                .isEqualTo(new Fault(Stage.G_STAGE, 3, Cause.GPA_TOO_WIDE, Access.READ, -1));
    }

    /** A G-stage PTE fetch outside memory is an access fault (5), not a guest-page fault. */
    @Test
    void walk_gStageTableOutsideMemory_faultsAccessFault() {
        long gpa = 0x0000_0100_0020_0000L;
        long outside = 32L << 20;
        memory.writeLong(root + 8L * RiscvPagingMode.SV39X4.index(gpa, 2), RiscvPte.encode(outside, V));

        Fault fault = (Fault) sv39x4.walk(root, gpa, RiscvWalkRequest.user(Access.READ));

        assertThat(fault.cause()).isEqualTo(Cause.ACCESS_FAULT);
        assertThat(fault.stage()).isEqualTo(Stage.G_STAGE);
        assertThat(fault.exceptionCode()).isEqualTo(5);
    }
}
