package dev.iommulab.core.pgtable;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.function.LongSupplier;

/**
 * What {@link IoPgtable} needs to know of one hardware format: how entries are indexed and decoded, and how a
 * leaf is written (by the hardware model's own table class, so the bits are the ones the IOMMU walks). Levels
 * count from 0, the level of 4 KiB leaves, to {@code levels() - 1}, the root.
 */
abstract class PtFormat {

    final PhysicalMemory memory;

    PtFormat(PhysicalMemory memory) {
        this.memory = memory;
    }

    abstract int levels();

    abstract int index(long iova, int level);

    abstract boolean present(long pte);

    /** A present entry that points to a table of the next level down. */
    abstract boolean isTable(long pte, int level);

    abstract long address(long pte);

    /** The prot the format cannot map, as the driver refuses it; null when {@code prot} is fine. */
    String badProt(int prot) {
        return null;
    }

    /** Writes the leaf {@code iova -> pa} of {@code size}, taking missing tables from {@code tables}. */
    abstract void writeLeaf(long root, long iova, long pa, long size, int prot, LongSupplier tables);

    static long span(int level) {
        return 1L << (12 + 9 * level);
    }

    static PtFormat of(IoPgtableFormat format, PhysicalMemory memory, boolean hardwareDirty) {
        return switch (format) {
            case VTD_FIRST_STAGE -> new X86FirstStage(memory);
            case VTD_SECOND_STAGE -> new VtdSecondStage(memory);
            case RISCV_SV39 -> new Riscv(memory, RiscvPagingMode.SV39, hardwareDirty);
            case RISCV_SV48 -> new Riscv(memory, RiscvPagingMode.SV48, hardwareDirty);
            case RISCV_SV57 -> new Riscv(memory, RiscvPagingMode.SV57, hardwareDirty);
        };
    }

    /**
     * What the two VT-d formats share: four levels of 512 entries indexed as in an x86-64 table, a PS bit that makes
     * an entry above level 0 a large leaf, and no mapping that is neither readable nor writable (__domain_mapping()).
     */
    abstract static class Vtd extends PtFormat {

        /** The format's page-size bit. */
        private final long ps;

        Vtd(PhysicalMemory memory, long ps) {
            super(memory);
            this.ps = ps;
        }

        @Override
        final int levels() {
            return 4;
        }

        @Override
        final int index(long iova, int level) {
            return X86Pte.index(iova, level + 1);
        }

        @Override
        final boolean isTable(long pte, int level) {
            return present(pte) && level > 0 && (pte & ps) == 0;
        }

        @Override
        final String badProt(int prot) {
            return (prot & (IommuProt.IOMMU_READ | IommuProt.IOMMU_WRITE)) == 0 ? "neither read nor write" : null;
        }
    }

    /**
     * VT-d first stage: the leaf bits intel/iommu.c gives a first-stage DMA mapping — P (DMA_PTE_READ), RW
     * for IOMMU_WRITE, US, A, and D with RW (DMA_FL_PTE_US, DMA_FL_PTE_ACCESS, DMA_FL_PTE_DIRTY); XD for
     * IOMMU_NOEXEC. A mapping that is neither readable nor writable is refused (__domain_mapping()).
     */
    static final class X86FirstStage extends Vtd {

        private final X86PageTable table;

        X86FirstStage(PhysicalMemory memory) {
            super(memory, X86Pte.PS);
            this.table = new X86PageTable(memory, 4);
        }

        @Override
        boolean present(long pte) {
            return X86Pte.present(pte);
        }

        @Override
        long address(long pte) {
            return pte & X86Pte.ADDR_MASK;
        }

        @Override
        void writeLeaf(long root, long iova, long pa, long size, int prot, LongSupplier tables) {
            boolean write = (prot & IommuProt.IOMMU_WRITE) != 0;
            long flags = X86Pte.US | X86Pte.A | (write ? X86Pte.RW | X86Pte.D : 0)
                    | ((prot & IommuProt.IOMMU_NOEXEC) != 0 ? X86Pte.XD : 0);
            table.map(root, iova, pa, size, flags, tables);
        }
    }

    /** VT-d second stage: R for IOMMU_READ, W for IOMMU_WRITE (DMA_PTE_READ / DMA_PTE_WRITE); neither is refused. */
    static final class VtdSecondStage extends Vtd {

        /** The model's host address width (SecondStageTranslation.HAW). */
        private static final int HAW = X86PageTable.MAX_PHYS_ADDR_BITS;

        private final VtdSecondStageTable table;

        VtdSecondStage(PhysicalMemory memory) {
            super(memory, VtdSecondStageTable.PS);
            this.table = new VtdSecondStageTable(memory, 4, HAW);
        }

        @Override
        boolean present(long pte) {
            return (pte & (VtdSecondStageTable.R | VtdSecondStageTable.W)) != 0;
        }

        @Override
        long address(long pte) {
            return pte & VtdSecondStageTable.ADDR_MASK;
        }

        @Override
        void writeLeaf(long root, long iova, long pa, long size, int prot, LongSupplier tables) {
            long flags = ((prot & IommuProt.IOMMU_READ) != 0 ? VtdSecondStageTable.R : 0)
                    | ((prot & IommuProt.IOMMU_WRITE) != 0 ? VtdSecondStageTable.W : 0);
            table.map(root, iova, pa, size, flags, tables);
        }
    }

    /**
     * RISC-V first stage, the leaf bits riscv_iommu_map_pages() writes: {@code _PAGE_BASE} (V, A, U) and R;
     * W for IOMMU_WRITE, with D unless the IOMMU updates A/D itself ({@code amo_enabled}); never X.
     */
    static final class Riscv extends PtFormat {

        private final RiscvPagingMode mode;
        private final dev.iommulab.hw.pgtable.RiscvPageTable table;
        private final boolean hardwareDirty;

        Riscv(PhysicalMemory memory, RiscvPagingMode mode, boolean hardwareDirty) {
            super(memory);
            this.mode = mode;
            this.table = new dev.iommulab.hw.pgtable.RiscvPageTable(memory, mode);
            this.hardwareDirty = hardwareDirty;
        }

        @Override
        int levels() {
            return mode.levels();
        }

        @Override
        int index(long iova, int level) {
            return mode.index(iova, level);
        }

        @Override
        boolean present(long pte) {
            return RiscvPte.isValid(pte);
        }

        @Override
        boolean isTable(long pte, int level) {
            return present(pte) && !RiscvPte.isLeaf(pte);
        }

        @Override
        long address(long pte) {
            return RiscvPte.address(pte);
        }

        @Override
        void writeLeaf(long root, long iova, long pa, long size, int prot, LongSupplier tables) {
            long flags = RiscvPte.A | RiscvPte.U | RiscvPte.R;
            if ((prot & IommuProt.IOMMU_WRITE) != 0) {
                flags |= RiscvPte.W | (hardwareDirty ? 0 : RiscvPte.D);
            }
            table.map(root, iova, pa, size, flags, tables);
        }
    }
}
