package dev.iommulab.core.dma;

/**
 * One DMA segment a mapping produced: {@code sg_dma_address(s)} and {@code sg_dma_len(s)} of the first
 * {@code count} entries after dma_map_sg(), or the handle of dma_map_single() with its size.
 *
 * @param dmaAddress the IOVA the device uses
 * @param length     bytes
 */
public record DmaSegment(long dmaAddress, long length) {

    @Override
    public String toString() {
        return String.format("%#x+%#x", dmaAddress, length);
    }
}
