package dev.iommulab.hw.pgtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * {@link X86PageTable#map} writing 4 KiB, 2 MiB and 1 GiB leaves. Derives from
 * reference/iommu-hardware.md §2.1.1 ("x86-64 format, 4 or 5 levels, 4K/2M/1G, bits P, R/W, U/S, A,
 * D, XD; canonical-address check") and Intel SDM Vol. 3A §4.5: a PDE with PS = 1 maps a 2 MiB page
 * (Table 4-17), a PDPTE with PS = 1 a 1 GiB page (Table 4-15); the walk then keeps the low 21 or 30
 * bits of the address.
 */
class X86PageTableMapTest {

    private static final long MEMORY_SIZE = 16L << 20;
    private static final long VA = 0x0000_7f12_4000_0000L;
    private static final long PA_2M = 0x0060_0000L;
    private static final long PA_1G = 0x4000_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
    private final X86PageTable table = new X86PageTable(memory, 4);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    /** Address of the entry for {@code va} at {@code level}, following present entries from the root. */
    private long entryAddress(X86PageTable t, long rootAddr, long va, int level) {
        long tableAddr = rootAddr;
        for (int l = t.levels(); l > level; l--) {
            tableAddr = X86Pte.address(memory.readLong(tableAddr + 8L * X86Pte.index(va, l)));
        }
        return tableAddr + 8L * X86Pte.index(va, level);
    }

    /** SDM Table 4-17: the PDE holds the 2 MiB frame address, PS and the leaf flags; P is added. */
    @Test
    void map_twoMegabytePage_writesPdeWithPsAndFlags() {
        long pdeAddr = table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, X86Pte.RW | X86Pte.US, this::allocate);

        assertThat(pdeAddr).isEqualTo(entryAddress(table, root, VA, 2));
        assertThat(memory.readLong(pdeAddr)).isEqualTo(PA_2M | X86Pte.P | X86Pte.RW | X86Pte.US | X86Pte.PS);
        for (int level = 4; level >= 3; level--) {
            assertThat(memory.readLong(entryAddress(table, root, VA, level)) & 0xfff)
                    .as("level %d flags", level).isEqualTo(X86Pte.P | X86Pte.RW | X86Pte.US);
        }
    }

    /** The walk finds the 2 MiB leaf at level 2 and keeps VA bits 20:0 as the page offset. */
    @Test
    void walk_afterMapTwoMegabytePage_returnsLevel2LeafWithOffset() {
        long pdeAddr = table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, X86Pte.RW | X86Pte.US, this::allocate);

        WalkResult result = table.walk(root, VA + 0x1_2345);

        assertThat(result).isEqualTo(new WalkResult.Leaf(PA_2M + 0x1_2345, X86PageTable.PAGE_2M, 2,
                true, true, true, false, false, pdeAddr));
    }

    /** SDM Table 4-15: the PDPTE holds the 1 GiB frame and PS; the walk keeps VA bits 29:0. */
    @Test
    void map_oneGigabytePage_writesPdpteWithPsAndWalkReturnsLevel3Leaf() {
        long pdpteAddr = table.map(root, VA, PA_1G, X86PageTable.PAGE_1G, X86Pte.US, this::allocate);

        assertThat(memory.readLong(pdpteAddr)).isEqualTo(PA_1G | X86Pte.P | X86Pte.US | X86Pte.PS);
        assertThat(pdpteAddr).isEqualTo(entryAddress(table, root, VA, 3));
        assertThat(table.walk(root, VA + 0x0123_4567)).isEqualTo(new WalkResult.Leaf(PA_1G + 0x0123_4567,
                X86PageTable.PAGE_1G, 3, false, true, true, false, false, pdpteAddr));
    }

    /** A 4 KiB map writes the same bytes as map4k and never sets PS (bit 7 is PAT in a PTE). */
    @Test
    void map_fourKilobytePage_writesPteWithoutPs() {
        long pteAddr = table.map(root, VA, 0x5000, X86PageTable.PAGE_4K, X86Pte.RW | X86Pte.PS, this::allocate);

        assertThat(memory.readLong(pteAddr)).isEqualTo(0x5000 | X86Pte.P | X86Pte.RW);
        assertThat(table.walk(root, VA + 0x10)).isEqualTo(new WalkResult.Leaf(0x5010, X86PageTable.PAGE_4K, 1,
                true, false, true, false, false, pteAddr));
    }

    /** A, D and XD written into a large leaf come back from the walk as accessed, dirty, not executable. */
    @Test
    void walk_largeLeafWithAccessedDirtyAndXd_reportsThem() {
        long pdeAddr = table.map(root, VA, PA_2M, X86PageTable.PAGE_2M,
                X86Pte.RW | X86Pte.US | X86Pte.A | X86Pte.D | X86Pte.XD, this::allocate);

        WalkResult.Leaf leaf = (WalkResult.Leaf) table.walk(root, VA);

        assertThat(memory.readLong(pdeAddr)).isEqualTo(
                PA_2M | X86Pte.P | X86Pte.RW | X86Pte.US | X86Pte.A | X86Pte.D | X86Pte.XD | X86Pte.PS);
        assertThat(leaf.accessed()).isTrue();
        assertThat(leaf.dirty()).isTrue();
        assertThat(leaf.executable()).isFalse();
    }

    /** The hardware sets A/D in a large leaf too (setAccessedDirty writes the PDE in memory). */
    @Test
    void setAccessedDirty_largeLeaf_setsAAndDInThePde() {
        long pdeAddr = table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, X86Pte.RW, this::allocate);

        table.setAccessedDirty((WalkResult.Leaf) table.walk(root, VA), true);

        assertThat(memory.readLong(pdeAddr)).isEqualTo(
                PA_2M | X86Pte.P | X86Pte.RW | X86Pte.PS | X86Pte.A | X86Pte.D);
    }

    /** With 5 levels, a 57-bit VA goes through the PML5 and a 1 GiB leaf still sits at level 3. */
    @Test
    void map_fiveLevelsHighVa_walksThroughPml5ToLevel3Leaf() {
        X86PageTable five = new X86PageTable(memory, 5);
        long root5 = allocate();
        long va = 0x00ff_ff80_4000_0000L;

        long pdpteAddr = five.map(root5, va, PA_1G, X86PageTable.PAGE_1G, X86Pte.RW, this::allocate);

        assertThat(pdpteAddr).isEqualTo(entryAddress(five, root5, va, 3));
        assertThat(memory.readLong(root5 + 8L * X86Pte.index(va, 5)) & X86Pte.P).isEqualTo(X86Pte.P);
        assertThat(five.walk(root5, va + 0x42)).isEqualTo(new WalkResult.Leaf(PA_1G + 0x42, X86PageTable.PAGE_1G,
                3, true, false, true, false, false, pdpteAddr));
        assertThat(table.isCanonical(va)).isFalse();
    }

    /** Only 4 KiB, 2 MiB and 1 GiB pages exist (PS is reserved in a PML4E). */
    @Test
    void map_unsupportedPageSize_throws() {
        assertThatThrownBy(() -> table.map(root, 0, 0, 1L << 39, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0x8000000000");
        assertThatThrownBy(() -> table.map(root, 0, 0, 8192, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** VA and PA must be aligned to the page size; nothing is written when they are not. */
    @Test
    void map_misalignedVaOrPa_throwsAndWritesNothing() {
        assertThatThrownBy(() -> table.map(root, VA + 0x1000, PA_2M, X86PageTable.PAGE_2M, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> table.map(root, VA, PA_2M + 0x1000, X86PageTable.PAGE_2M, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> table.map(root, VA, PA_2M, X86PageTable.PAGE_1G, 0, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(memory.readLong(root + 8L * X86Pte.index(VA, 4))).isZero();
    }

    /** §2.1.1 canonical check: a 4-level table cannot map a VA whose bits 63:47 differ from bit 47. */
    @Test
    void map_nonCanonicalVa_throws() {
        assertThatThrownBy(() -> table.map(root, 0x0000_8000_0000_0000L, PA_2M, X86PageTable.PAGE_2M, 0,
                this::allocate)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("canonical");
    }

    /** The PA must fit MAX_PHYS_ADDR_BITS, and flags must not carry address bits. */
    @Test
    void map_widePaOrAddressBitsInFlags_throws() {
        assertThatThrownBy(() -> table.map(root, VA, 1L << X86PageTable.MAX_PHYS_ADDR_BITS, X86PageTable.PAGE_1G, 0,
                this::allocate)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, 1L << 13, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A large leaf cannot replace a present table: its 4 KiB mappings would be orphaned. */
    @Test
    void map_largePageOverPresentTable_throwsAndKeepsTheTable() {
        table.map4k(root, VA, 0x5000, X86Pte.RW, this::allocate);
        long pdeAddr = entryAddress(table, root, VA, 2);
        long pde = memory.readLong(pdeAddr);

        assertThatThrownBy(() -> table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, 0, this::allocate))
                .isInstanceOf(IllegalStateException.class);

        assertThat(memory.readLong(pdeAddr)).isEqualTo(pde);
    }

    /** A mapping inside a present large page is refused, as map4k refuses it. */
    @Test
    void map_insidePresentLargePage_throws() {
        table.map(root, VA, PA_1G, X86PageTable.PAGE_1G, X86Pte.RW, this::allocate);

        assertThatThrownBy(() -> table.map(root, VA + X86PageTable.PAGE_2M, PA_2M, X86PageTable.PAGE_2M, 0,
                this::allocate)).isInstanceOf(IllegalStateException.class);
    }

    /** A present leaf of the same size is replaced, as a remap does. */
    @Test
    void map_sameSizeLeafAgain_replacesTheLeaf() {
        long first = table.map(root, VA, PA_2M, X86PageTable.PAGE_2M, X86Pte.RW, this::allocate);

        long second = table.map(root, VA, PA_2M + X86PageTable.PAGE_2M, X86PageTable.PAGE_2M, 0, this::allocate);

        assertThat(second).isEqualTo(first);
        assertThat(memory.readLong(second)).isEqualTo(PA_2M + X86PageTable.PAGE_2M | X86Pte.P | X86Pte.PS);
    }
}
