package dev.iommulab.hw.virtio;

/**
 * One buffer of a descriptor chain: a guest-physical address and a length (a scatter-gather element).
 *
 * @param addr guest-physical address
 * @param len  bytes, unsigned 32-bit
 */
public record Segment(long addr, long len) {

    public Segment {
        if (len < 0 || len > 0xffff_ffffL) {
            throw new IllegalArgumentException("segment length must fit in 32 bits: " + len);
        }
    }
}
