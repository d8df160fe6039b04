package dev.iommulab.core.pgtable;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import org.junit.jupiter.api.Test;

/**
 * The leaves each io-pgtable format writes, read back with the hardware model's own walks: VT-d second stage
 * (DMA_PTE_READ / DMA_PTE_WRITE, PS for large pages) and RISC-V (riscv_iommu_map_pages(): _PAGE_BASE | R, W, D
 * unless the IOMMU updates A/D).
 */
class IoPgtableFormatsTest {

    private final PhysicalMemory memory = new PhysicalMemory(32L << 20);
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, new FailureInjector());

    /** A read-only 2 MiB leaf of the second stage: R without W, PS, at the right address. */
    @Test
    void vtdSecondStage_largeReadOnlyLeaf_walkSeesRAndSize() {
        IoPgtable pt = IoPgtable.alloc(IoPgtableFormat.VTD_SECOND_STAGE, frames, false);

        assertThat(pt.mapPages(1L << 30, 0x0040_0000L, 1L << 21, 1, IommuProt.IOMMU_READ).ok()).isTrue();

        VtdSecondStageTable.Walk w = new VtdSecondStageTable(memory, 4, 46).walk(pt.root(), (1L << 30) + 0x123);
        assertThat(w.ok()).isTrue();
        assertThat(w.leaf().pageSize()).isEqualTo(1L << 21);
        assertThat(w.leaf().read()).isTrue();
        assertThat(w.leaf().write()).isFalse();
        assertThat(w.leaf().pa()).isEqualTo(0x0040_0123L);
        assertThat(pt.iovaToPhys((1L << 30) + 0x123)).isEqualTo(0x0040_0123L);
    }

    /** RISC-V writable leaves: V, R, W, A, U; D only when the IOMMU does not set it (no AMO_HWAD); never X. */
    @Test
    void riscv_writableLeaf_dirtyOnlyWithoutHardwareAd() {
        for (boolean hwAd : new boolean[] {false, true}) {
            IoPgtable pt = IoPgtable.alloc(IoPgtableFormat.RISCV_SV48, frames, hwAd);
            pt.mapPages(0x1000, 0x0020_0000L, 4096, 1, IommuProt.IOMMU_READ | IommuProt.IOMMU_WRITE);
            dev.iommulab.hw.pgtable.RiscvPageTable table = new dev.iommulab.hw.pgtable.RiscvPageTable(memory,
                    RiscvPagingMode.SV48);

            long pte = memory.readLong(table.entryAddress(pt.root(), 0x1000, 0));
            assertThat(pte & (RiscvPte.V | RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.U))
                    .isEqualTo(RiscvPte.V | RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.U);
            assertThat((pte & RiscvPte.D) != 0).as("D with hwAd=%s", hwAd).isEqualTo(!hwAd);
            assertThat(pte & RiscvPte.X).isZero();
            RiscvWalkResult r = table.walk(pt.root(), 0x1000, new RiscvWalkRequest(Access.READ, false, false, false,
                    true));
            assertThat(r).isInstanceOf(RiscvWalkResult.Leaf.class);
        }
    }

    /** The RISC-V formats' IOVA space is va_bits - 1 wide, and 512 GiB leaves exist only where it fits. */
    @Test
    void riscv_formats_apertureAndPageSizes() {
        assertThat(IoPgtableFormat.RISCV_SV39.pgsizeBitmap()).isEqualTo(1L << 12 | 1L << 21 | 1L << 30);
        assertThat(IoPgtableFormat.RISCV_SV48.pgsizeBitmap()).isEqualTo(1L << 12 | 1L << 21 | 1L << 30 | 1L << 39);
        IoPgtable pt = IoPgtable.alloc(IoPgtableFormat.RISCV_SV39, frames, true);

        assertThat(pt.mapPages((1L << 38) - 4096, 0x0020_0000L, 4096, 1, IommuProt.IOMMU_READ).ok()).isTrue();
        assertThat(pt.mapPages(1L << 38, 0x0020_0000L, 4096, 1, IommuProt.IOMMU_READ).error().errno())
                .isEqualTo(dev.iommulab.core.kernel.Errno.EFAULT);
    }
}
