package dev.iommulab.core.dma;

/**
 * One entry of a scatterlist handed to {@link IommuDma#dmaMapSg}: {@code sg_phys(s)} and {@code s->length}.
 *
 * @param phys   physical address of the first byte (page_to_phys(sg_page(s)) + s->offset), >= 0
 * @param length bytes, > 0
 */
public record SgEntry(long phys, long length) {

    /** Validates the fields. */
    public SgEntry {
        if (phys < 0 || length <= 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(String.format("bad scatterlist entry %#x+%#x", phys, length));
        }
    }
}
