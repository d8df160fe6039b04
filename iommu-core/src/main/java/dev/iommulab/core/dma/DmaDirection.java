package dev.iommulab.core.dma;

import dev.iommulab.core.pgtable.IommuProt;

/** {@code enum dma_data_direction} (include/linux/dma-direction.h). */
public enum DmaDirection {
    /** DMA_BIDIRECTIONAL: the device reads and writes the buffer. */
    DMA_BIDIRECTIONAL,
    /** DMA_TO_DEVICE: the device reads the buffer. */
    DMA_TO_DEVICE,
    /** DMA_FROM_DEVICE: the device writes the buffer. */
    DMA_FROM_DEVICE,
    /** DMA_NONE: not a valid direction for a mapping (valid_dma_direction() is false). */
    DMA_NONE;

    /**
     * Counterpart of dma_info_to_prot(): the iommu_map() prot of a mapping in this direction, IOMMU_CACHE for a
     * cache-coherent device (every device of the lab's x86 and RISC-V platforms), IOMMU_PRIV for
     * DMA_ATTR_PRIVILEGED.
     */
    int prot(boolean coherent, boolean privileged) {
        int prot = (coherent ? IommuProt.IOMMU_CACHE : 0) | (privileged ? IommuProt.IOMMU_PRIV : 0);
        return switch (this) {
            case DMA_BIDIRECTIONAL -> prot | IommuProt.IOMMU_READ | IommuProt.IOMMU_WRITE;
            case DMA_TO_DEVICE -> prot | IommuProt.IOMMU_READ;
            case DMA_FROM_DEVICE -> prot | IommuProt.IOMMU_WRITE;
            case DMA_NONE -> 0;
        };
    }
}
