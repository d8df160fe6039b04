package dev.iommulab.lab.scenario;

/**
 * One initial mapping of a process address space.
 *
 * @param start first byte, page aligned (4096)
 * @param size  length in bytes, page aligned and > 0
 * @param prot  {@code none} or letters from r, w, x (e.g. {@code rw})
 */
public record VmaSpec(long start, long size, String prot) {

    /** Validates alignment, bounds and protection. */
    public VmaSpec {
        Checks.pageAligned(Checks.nonNegative(start, "start"), "start");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        if (start + size < 0) {
            throw new IllegalArgumentException("vma end overflows: start 0x" + Long.toHexString(start)
                    + " size 0x" + Long.toHexString(size));
        }
        Checks.prot(prot);
    }

    /** First byte after the mapping. */
    public long end() {
        return start + size;
    }

    /** Whether this mapping shares at least one byte with {@code other}. */
    public boolean overlaps(VmaSpec other) {
        return start < other.end() && other.start() < end();
    }
}
