package dev.iommulab.hw.pgtable;

import static dev.iommulab.hw.pgtable.RiscvPte.A;
import static dev.iommulab.hw.pgtable.RiscvPte.R;
import static dev.iommulab.hw.pgtable.RiscvPte.U;
import static dev.iommulab.hw.pgtable.RiscvPte.V;
import static dev.iommulab.hw.pgtable.RiscvPte.W;
import static dev.iommulab.hw.pgtable.RiscvPte.X;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/**
 * The table writer {@link RiscvPageTable#map} and {@link RiscvPageTable#entryAddress}: it only writes
 * tables the walk accepts (privileged spec PTE rules: a leaf has R or X, W without R is reserved, the
 * PPN holds a 56-bit PA, superpages are aligned) and refuses to orphan tables.
 */
class RiscvPageTableMapTest {

    private static final long VA = 0x0000_0012_3460_0000L;
    private static final long PA = 0x0060_0000L;

    private final PhysicalMemory memory = new PhysicalMemory(16L << 20);
    private final RiscvPageTable sv39 = new RiscvPageTable(memory, RiscvPagingMode.SV39);
    private long nextFrame = 0x10_0000;
    private final long root = allocate();

    private long allocate() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    /** Flags that are not a valid leaf are refused: none of R/X, W without R, bits above 9. */
    @Test
    void map_invalidLeafFlags_throwAndWriteNothing() {
        for (long flags : new long[] {0, W, W | X, U | A, R | (1L << 54), R | (1L << 10)}) {
            assertThatThrownBy(() -> sv39.map(root, VA, PA, 4096, flags, this::allocate))
                    .as("flags %#x", flags).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(memory.readLong(root + 8L * RiscvPagingMode.SV39.index(VA, 2))).isZero();
    }

    /** Sizes must exist in the mode; VA and PA must be aligned to the size. */
    @Test
    void map_badSizeOrAlignment_throws() {
        assertThatThrownBy(() -> sv39.map(root, VA, PA, 512L << 30, R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sv39.map(root, VA + 0x1000, PA, 2L << 20, R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> sv39.map(root, VA, PA + 0x1000, 2L << 20, R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** The address must pass the walk's input check; the PA must fit the 44-bit PPN. */
    @Test
    void map_nonCanonicalVaOrWidePa_throws() {
        assertThatThrownBy(() -> sv39.map(root, 1L << 39, PA, 4096, R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("39-bit");
        assertThatThrownBy(() -> sv39.map(root, VA, RiscvPte.PHYS_ADDR_LIMIT, 4096, R, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
        RiscvPageTable sv39x4 = new RiscvPageTable(memory, RiscvPagingMode.SV39X4);
        assertThatThrownBy(() -> sv39x4.map(0x8_0000, -4096L, PA, 4096, R | U, this::allocate))
                .isInstanceOf(IllegalArgumentException.class);
    }

    /** A superpage over a present table would orphan it: refused, the table entry is kept. */
    @Test
    void map_superpageOverPresentTable_throwsAndKeepsTheTable() {
        sv39.map(root, VA, PA, 4096, R, this::allocate);
        long l1Addr = sv39.entryAddress(root, VA, 1);
        long l1 = memory.readLong(l1Addr);

        assertThatThrownBy(() -> sv39.map(root, VA, PA, 2L << 20, R, this::allocate))
                .isInstanceOf(IllegalStateException.class);

        assertThat(memory.readLong(l1Addr)).isEqualTo(l1);
    }

    /** A mapping inside a present superpage is refused. */
    @Test
    void map_insidePresentSuperpage_throws() {
        sv39.map(root, VA, PA, 2L << 20, R, this::allocate);

        assertThatThrownBy(() -> sv39.map(root, VA + 0x1000, PA, 4096, R, this::allocate))
                .isInstanceOf(IllegalStateException.class);
        assertThat(sv39.entryAddress(root, VA + 0x1000, 0)).isEqualTo(-1);
    }

    /** A present leaf of the same size is replaced at the same entry. */
    @Test
    void map_sameSizeAgain_replacesTheLeaf() {
        long first = sv39.map(root, VA, PA, 2L << 20, R, this::allocate);

        long second = sv39.map(root, VA, PA + (2L << 20), 2L << 20, R | W, this::allocate);

        assertThat(second).isEqualTo(first);
        assertThat(memory.readLong(second)).isEqualTo(RiscvPte.encode(PA + (2L << 20), V | R | W));
    }

    /** entryAddress is -1 while a table on the way is missing, and rejects levels the mode lacks. */
    @Test
    void entryAddress_missingTableOrBadLevel_reportsOrThrows() {
        assertThat(sv39.entryAddress(root, VA, 2)).isEqualTo(root + 8L * RiscvPagingMode.SV39.index(VA, 2));
        assertThat(sv39.entryAddress(root, VA, 0)).isEqualTo(-1);
        assertThatThrownBy(() -> sv39.entryAddress(root, VA, 3)).isInstanceOf(IllegalArgumentException.class);
    }
}
