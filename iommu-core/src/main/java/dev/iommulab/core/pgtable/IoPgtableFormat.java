package dev.iommulab.core.pgtable;

/**
 * The page-table formats an {@link IoPgtable} writes ({@code enum io_pgtable_fmt}; the formats of the
 * hardware model's {@code dev.iommulab.hw.pgtable}), with the IOVA space and the page sizes each maps
 * ({@code pgsize_bitmap}).
 */
public enum IoPgtableFormat {
    /**
     * VT-d first stage: x86-64 4-level paging ({@code X86PageTable}), as intel/iommu.c builds DMA domains on
     * scalable-mode units; IOVAs in the lower canonical half (the domain's aperture ends at 2^47 - 1).
     */
    VTD_FIRST_STAGE(47, Sizes.X86),
    /** VT-d second stage, 4 levels (AW 010b, {@code VtdSecondStageTable}); IOVAs below 2^48. */
    VTD_SECOND_STAGE(48, Sizes.X86),
    /** RISC-V Sv39 first stage ({@code RiscvPageTable}); riscv/iommu.c limits IOVAs to va_bits - 1 bits. */
    RISCV_SV39(38, Sizes.RISCV),
    /** RISC-V Sv48 first stage. */
    RISCV_SV48(47, Sizes.RISCV),
    /** RISC-V Sv57 first stage. */
    RISCV_SV57(56, Sizes.RISCV);

    private static final class Sizes {
        static final long X86 = 1L << 12 | 1L << 21 | 1L << 30;
        static final long RISCV = 1L << 12 | 1L << 21 | 1L << 30 | 1L << 39;
    }

    private final int iovaBits;
    private final long pgsizeBitmap;

    IoPgtableFormat(int iovaBits, long sizes) {
        this.iovaBits = iovaBits;
        this.pgsizeBitmap = sizes & ((1L << iovaBits) - 1);
    }

    /** IOVAs below 2^iovaBits can be mapped (the domain's geometry: aperture 0 to 2^iovaBits - 1). */
    public int iovaBits() {
        return iovaBits;
    }

    /** The page sizes a leaf can map. */
    public long pgsizeBitmap() {
        return pgsizeBitmap;
    }
}
