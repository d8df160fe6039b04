package dev.iommulab.core;

/**
 * The {@code enum iommu_cap} values a driver may claim for a device ({@code iommu_ops.capable}, asked through
 * device_iommu_capable()); only those the lab's layers ask about.
 */
public enum IommuCap {
    /** IOMMU_CAP_CACHE_COHERENCY: the IOMMU can enforce cache-coherent DMA. */
    CACHE_COHERENCY,
    /**
     * IOMMU_CAP_DEFERRED_FLUSH: unmapped IOVAs may be invalidated later and in bulk, so dma-iommu may give a
     * DMA_FQ domain its flush queue (iommu_dma_init_domain()); without it the domain falls back to strict.
     */
    DEFERRED_FLUSH
}
