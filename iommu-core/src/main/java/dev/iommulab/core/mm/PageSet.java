package dev.iommulab.core.mm;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A sorted set of page addresses kept as one 512-bit map per 2 MiB region — a last-level page table's worth of pages —
 * so that indexing a populated page costs a bit, not a tree node and a boxed key. {@link MmPages} keeps which pages
 * have a leaf in one, to walk only those.
 */
final class PageSet {

    private static final int PAGE_SHIFT = 12;
    private static final int REGION_SHIFT = 21;
    private static final int PAGES_PER_REGION = 1 << (REGION_SHIFT - PAGE_SHIFT);

    private final TreeMap<Long, long[]> regions = new TreeMap<>();
    /** The region last added to, and its bits: a first touch fills one region page after page. */
    private long lastRegion = -1;
    private long[] lastBits;

    void add(long page) {
        long region = page >>> REGION_SHIFT;
        if (region != lastRegion) {
            lastBits = regions.computeIfAbsent(region, k -> new long[PAGES_PER_REGION / Long.SIZE]);
            lastRegion = region;
        }
        int i = index(page);
        lastBits[i >>> 6] |= 1L << i;
    }

    void remove(long page) {
        long region = page >>> REGION_SHIFT;
        long[] bits = regions.get(region);
        if (bits == null) {
            return;
        }
        int i = index(page);
        bits[i >>> 6] &= ~(1L << i);
        if (Arrays.stream(bits).allMatch(w -> w == 0)) {
            regions.remove(region);
            if (region == lastRegion) {
                lastRegion = -1;
                lastBits = null;
            }
        }
    }

    /** The pages of the set in {@code [start, end)}, ascending, in a new array (the caller may change the set). */
    long[] between(long start, long end) {
        if (start >= end) {
            return new long[0];
        }
        long[] out = new long[16];
        int n = 0;
        for (Map.Entry<Long, long[]> e : regions.subMap(start >>> REGION_SHIFT, true, (end - 1) >>> REGION_SHIFT, true)
                .entrySet()) {
            long base = e.getKey() << REGION_SHIFT;
            long[] bits = e.getValue();
            for (int w = 0; w < bits.length; w++) {
                for (long word = bits[w]; word != 0; word &= word - 1) {
                    long page = base + ((long) (w * Long.SIZE + Long.numberOfTrailingZeros(word)) << PAGE_SHIFT);
                    if (page >= start && page < end) {
                        out = n == out.length ? Arrays.copyOf(out, n * 2) : out;
                        out[n++] = page;
                    }
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static int index(long page) {
        return (int) (page >>> PAGE_SHIFT) & (PAGES_PER_REGION - 1);
    }
}
