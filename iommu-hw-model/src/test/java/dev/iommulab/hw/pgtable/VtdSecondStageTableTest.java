package dev.iommulab.hw.pgtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The VT-d second-stage paging format: R = W = 0 is not present, rights are the AND over levels, PS
 * for 2 MiB / 1 GiB, reserved bits, A/D set only when asked (SSADE). Derives from VT-d spec §9.8 as
 * summarised in reference/iommu-hardware.md §2.1.1 ("no separate present bit (R=W=0 ⇒ not present)")
 * and QEMU's {@code VTD_SPTE_*_RSVD_MASK}.
 */
class VtdSecondStageTableTest {

    private static final long GPA = 0x0000_0040_1234_5000L;
    private static final long HPA = 0x0000_0000_0020_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(64L << 20);
    private final VtdSecondStageTable table = new VtdSecondStageTable(memory, 4, 46);
    private final long root;
    private long nextFrame = 0x10_0000;

    VtdSecondStageTableTest() {
        root = allocate();
    }

    private long allocate() {
        long frame = nextFrame;
        nextFrame += 4096;
        memory.zero(frame, 4096);
        return frame;
    }

    @Test
    void walk_mapped4kPage_returnsLeafWithRightsAndAddress() {
        long pte = table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R | VtdSecondStageTable.W, this::allocate);

        VtdSecondStageTable.Walk w = table.walk(root, GPA + 0x123);

        assertThat(w.ok()).isTrue();
        assertThat(w.leaf().pa()).isEqualTo(HPA + 0x123);
        assertThat(w.leaf().pageSize()).isEqualTo(4096);
        assertThat(w.leaf().level()).isEqualTo(1);
        assertThat(w.leaf().read()).isTrue();
        assertThat(w.leaf().write()).isTrue();
        assertThat(w.leaf().exec()).isFalse();
        assertThat(w.leaf().pteAddr()).isEqualTo(pte);
        assertThat(w.leaf().entryAddrs()).hasSize(4);
    }

    /** §2.1.1: an entry with R = W = 0 is not present, at any level. */
    @Test
    void walk_leafWithReadAndWriteClear_notPresentAtLevel1() {
        long pte = table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R, this::allocate);
        memory.writeLong(pte, HPA | VtdSecondStageTable.X);

        VtdSecondStageTable.Walk w = table.walk(root, GPA);

        assertThat(w.fault()).isEqualTo(new VtdSecondStageTable.Fault(1, VtdSecondStageTable.Cause.NOT_PRESENT, pte));
    }

    @Test
    void walk_emptyTopLevel_notPresentAtTopLevel() {
        VtdSecondStageTable.Walk w = table.walk(root, GPA);

        assertThat(w.fault().level()).isEqualTo(4);
        assertThat(w.fault().cause()).isEqualTo(VtdSecondStageTable.Cause.NOT_PRESENT);
    }

    /** Rights are the AND over all levels: a read-only directory entry makes a RW leaf read-only. */
    @Test
    void walk_readOnlyIntermediateEntry_leafIsReadOnly() {
        table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R | VtdSecondStageTable.W | VtdSecondStageTable.X,
                this::allocate);
        long pml4e = root + 8L * X86Pte.index(GPA, 4);
        memory.writeLong(pml4e, memory.readLong(pml4e) & ~VtdSecondStageTable.W);

        VtdSecondStageTable.Leaf leaf = table.walk(root, GPA).leaf();

        assertThat(leaf.read()).isTrue();
        assertThat(leaf.write()).isFalse();
        assertThat(leaf.exec()).isTrue();
    }

    @ParameterizedTest(name = "{0} bytes at level {1}")
    @CsvSource({"2097152, 2", "1073741824, 3"})
    void walk_largePage_translatesWithinPage(long size, int level) {
        long gpa = 0x0000_0040_0000_0000L;
        long hpa = size;
        table.map(root, gpa, hpa, size, VtdSecondStageTable.R, this::allocate);

        VtdSecondStageTable.Leaf leaf = table.walk(root, gpa + 0x1_2345).leaf();

        assertThat(leaf.pageSize()).isEqualTo(size);
        assertThat(leaf.level()).isEqualTo(level);
        assertThat(leaf.pa()).isEqualTo(hpa + 0x1_2345);
    }

    /** Reserved: bit 11 anywhere, PS in a level-4 entry, address bits below a 2 MiB page. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"bit11", "ps-at-level-4", "large-page-low-bits", "tm-bit-62"})
    void walk_reservedBits_reservedBitsFault(String which) {
        long pte = table.map(root, GPA & -(1L << 21), 0x40_0000, 1L << 21, VtdSecondStageTable.R, this::allocate);
        long pml4e = root + 8L * X86Pte.index(GPA, 4);
        switch (which) {
            case "bit11" -> memory.writeLong(pte, memory.readLong(pte) | 1L << 11);
            case "ps-at-level-4" -> memory.writeLong(pml4e, memory.readLong(pml4e) | VtdSecondStageTable.PS);
            case "large-page-low-bits" -> memory.writeLong(pte, memory.readLong(pte) | 0x1000);
            default -> memory.writeLong(pte, memory.readLong(pte) | 1L << 62);
        }

        VtdSecondStageTable.Walk w = table.walk(root, GPA);

        assertThat(w.fault().cause()).isEqualTo(VtdSecondStageTable.Cause.RESERVED_BITS);
    }

    @Test
    void walk_addressAboveHostWidth_addressBeyondHaw() {
        long pte = table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R, this::allocate);
        memory.writeLong(pte, memory.readLong(pte) | 1L << 47);

        assertThat(table.walk(root, GPA).fault().cause()).isEqualTo(VtdSecondStageTable.Cause.ADDRESS_BEYOND_HAW);
    }

    @Test
    void walk_ignoredHighBits_notReserved() {
        long pte = table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R, this::allocate);
        memory.writeLong(pte, memory.readLong(pte) | 1L << 63 | 1L << 55);

        assertThat(table.walk(root, GPA).ok()).isTrue();
    }

    /** A 4-level table translates 48 bits; an input above that is beyond its width (0x83 / 0x04). */
    @Test
    void walk_inputAbove48Bits_inputBeyondWidth() {
        VtdSecondStageTable.Walk w = table.walk(root, 1L << 48);

        assertThat(w.fault().cause()).isEqualTo(VtdSecondStageTable.Cause.INPUT_BEYOND_WIDTH);
        assertThat(w.fault().entryAddr()).isEqualTo(-1);
    }

    @Test
    void walk_threeLevelTable_translates39Bits() {
        VtdSecondStageTable small = new VtdSecondStageTable(memory, 3, 46);
        long r3 = allocate();
        small.map(r3, 0x7f_ffff_f000L, HPA, 4096, VtdSecondStageTable.R, this::allocate);

        assertThat(small.walk(r3, 0x7f_ffff_f000L).leaf().pa()).isEqualTo(HPA);
        assertThat(small.walk(r3, 1L << 39).fault().cause()).isEqualTo(VtdSecondStageTable.Cause.INPUT_BEYOND_WIDTH);
    }

    @Test
    void walk_tableOutsideMemory_fetchError() {
        long pml4e = root + 8L * X86Pte.index(GPA, 4);
        memory.writeLong(pml4e, (1L << 40) | VtdSecondStageTable.R);

        VtdSecondStageTable.Walk w = table.walk(root, GPA);

        assertThat(w.fault().cause()).isEqualTo(VtdSecondStageTable.Cause.FETCH_ERROR);
        assertThat(w.fault().level()).isEqualTo(3);
    }

    /** A walk reads only; SSADE's A/D come from setAccessedDirty: A on every level, D on the leaf. */
    @Test
    void setAccessedDirty_write_setsAOnEveryLevelAndDOnLeaf() {
        long pte = table.map(root, GPA, HPA, 4096, VtdSecondStageTable.R | VtdSecondStageTable.W, this::allocate);
        VtdSecondStageTable.Leaf leaf = table.walk(root, GPA).leaf();
        assertThat(memory.readLong(pte) & (VtdSecondStageTable.A | VtdSecondStageTable.D)).isZero();

        table.setAccessedDirty(leaf, true);

        for (long entry : leaf.entryAddrs()) {
            assertThat(memory.readLong(entry) & VtdSecondStageTable.A).isNotZero();
        }
        assertThat(memory.readLong(pte) & VtdSecondStageTable.D).isNotZero();
        assertThat(memory.readLong(leaf.entryAddrs()[0]) & VtdSecondStageTable.D).isZero();
        VtdSecondStageTable.Leaf again = table.walk(root, GPA).leaf();
        assertThat(again.accessed()).isTrue();
        assertThat(again.dirty()).isTrue();
    }

    @Test
    void levelsForAw_encodings_mapToLevelsOrReserved() {
        assertThat(VtdSecondStageTable.levelsForAw(1)).isEqualTo(3);
        assertThat(VtdSecondStageTable.levelsForAw(2)).isEqualTo(4);
        assertThat(VtdSecondStageTable.levelsForAw(3)).isEqualTo(5);
        assertThat(VtdSecondStageTable.levelsForAw(0)).isEqualTo(-1);
        assertThat(VtdSecondStageTable.levelsForAw(4)).isEqualTo(-1);
    }

    @Test
    void map_misalignedLargePage_rejected() {
        assertThatThrownBy(() -> table.map(root, GPA, HPA, 1L << 21, VtdSecondStageTable.R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
