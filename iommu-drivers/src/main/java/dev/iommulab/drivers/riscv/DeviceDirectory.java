package dev.iommulab.drivers.riscv;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;

/**
 * The driver's writer of the device directory table and of the process directory tables
 * (drivers/iommu/riscv/iommu.c): {@code riscv_iommu_get_dc()} walks the DDT for a {@code device_id} in the
 * base (32-byte) format, splitting it 7/9/8 bits and allocating missing non-leaf levels; the PDT walk is the
 * same idea for a {@code process_id} split 8/9/3 bits (PD8/PD17/PD20, riscv-iommu "Process to locate the
 * Process-context"), which mainline does not have (no PASID support) and the lab adds for SVA.
 */
final class DeviceDirectory {

    /** DDI widths of the base format: {@code ddi_bits[]} in riscv_iommu_get_dc(). */
    private static final int[] DDI_BITS = {7, 16, 24};
    /** PDI splits: bits 7:0 index the leaf, 16:8 the middle level, 19:17 the root of a PD20 table. */
    private static final int[] PDI_SHIFT = {0, 8, 17};

    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final long root;
    /** {@code iommu->ddt_mode}, set once riscv_iommu_iodir_set_mode() succeeded. */
    private int mode;

    /** Counterpart of riscv_iommu_iodir_alloc(): one zeroed page for the root of the DDT. */
    DeviceDirectory(FrameAllocator frames) {
        this.frames = frames;
        this.memory = frames.memory();
        this.root = frames.allocate();
    }

    long root() {
        return root;
    }

    /** The page allocator the tables come from (also the paging domains' page tables). */
    FrameAllocator frames() {
        return frames;
    }

    int mode() {
        return mode;
    }

    void setMode(int ddtMode) {
        this.mode = ddtMode;
    }

    /**
     * Counterpart of riscv_iommu_get_dc(): the address of the device context of {@code devid}, with the
     * non-leaf levels it needs allocated; -1 when the mode is not 1LVL-3LVL or the ID is too wide for it.
     *
     * @throws dev.iommulab.core.kernel.KernelException ENOMEM when a level cannot be allocated
     */
    long dcAddress(int devid) {
        if (mode < RiscvRegs.DDTP_MODE_1LVL || mode > RiscvRegs.DDTP_MODE_3LVL) {
            return -1;
        }
        int depth = mode - RiscvRegs.DDTP_MODE_1LVL;
        if (devid < 0 || devid >= 1 << DDI_BITS[depth]) {
            return -1;
        }
        long table = root;
        while (depth-- > 0) {
            table = nextLevel(table + 8L * ((devid >>> DDI_BITS[depth]) & 0x1ff), true);
        }
        return table + (long) RiscvDeviceContext.SIZE * (devid & 0x7f);
    }

    /**
     * The PDT mode ({@code pdtp.MODE}) for a function with {@code pasidBits} PASID bits: the smallest of PD8,
     * PD17, PD20 that covers them and the IOMMU offers, else the largest it offers; 0 (Bare) when it offers
     * none.
     */
    static int pdtMode(int pasidBits, long caps) {
        int[] modes = {RiscvDeviceContext.PDTP_PD8, RiscvDeviceContext.PDTP_PD17, RiscvDeviceContext.PDTP_PD20};
        long[] bits = {RiscvRegs.CAP_PD8, RiscvRegs.CAP_PD17, RiscvRegs.CAP_PD20};
        int largest = RiscvDeviceContext.MODE_BARE;
        for (int i = 0; i < modes.length; i++) {
            if ((caps & bits[i]) != 0) {
                largest = modes[i];
                if (pasidBits <= pdtBits(modes[i])) {
                    return modes[i];
                }
            }
        }
        return largest;
    }

    /** The {@code process_id} width a PDT mode indexes: 8, 17 or 20 (0 for Bare). */
    static int pdtBits(int pdtMode) {
        return switch (pdtMode) {
            case RiscvDeviceContext.PDTP_PD8 -> 8;
            case RiscvDeviceContext.PDTP_PD17 -> 17;
            case RiscvDeviceContext.PDTP_PD20 -> 20;
            default -> 0;
        };
    }

    /** A zeroed page for the root of a process directory table. */
    long allocPdt() {
        return frames.allocate();
    }

    /**
     * The address of the process context of {@code pasid} in the PDT at {@code pdtRoot} of mode
     * {@code pdtMode}; missing non-leaf levels are allocated when {@code allocate}, else -1 is returned.
     *
     * @throws dev.iommulab.core.kernel.KernelException ENOMEM when a level cannot be allocated
     */
    long pcAddress(long pdtRoot, int pdtMode, int pasid, boolean allocate) {
        long table = pdtRoot;
        for (int level = pdtMode - 1; level > 0; level--) {
            int index = (pasid >>> PDI_SHIFT[level]) & 0x1ff;
            table = nextLevel(table + 8L * index, allocate);
            if (table < 0) {
                return -1;
            }
        }
        return table + (long) RiscvProcessContext.SIZE * (pasid & 0xff);
    }

    /** The table a non-leaf entry points to, allocating and linking a zeroed page when it is not valid. */
    private long nextLevel(long entryAddr, boolean allocate) {
        long entry = memory.readLong(entryAddr);
        if ((entry & RiscvDeviceContext.NON_LEAF_V) != 0) {
            return RiscvRegs.ppnAddress(entry);
        }
        if (!allocate) {
            return -1;
        }
        long page = frames.allocate();
        memory.writeLong(entryAddr, RiscvDeviceContext.nonLeaf(page));
        return page;
    }
}
