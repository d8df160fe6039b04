/**
 * The DMA API over an IOMMU (drivers/iommu/dma-iommu.c and drivers/iommu/iova.c): {@link
 * dev.iommulab.core.dma.IommuDma} maps buffers for a device ({@code dma_map_single}, {@code dma_map_page},
 * {@code dma_map_sg}) into IOVAs of its DMA domain and unmaps them, strictly or through a per-domain flush queue
 * on the event loop, as the policy {@code dma.flush} ({@link dev.iommulab.core.dma.DmaFlush},
 * {@link dev.iommulab.core.dma.DmaPolicyModule}) says. The IOVA allocator, its range caches, the flush queue and
 * the scatterlist layout are package-private.
 */
package dev.iommulab.core.dma;
