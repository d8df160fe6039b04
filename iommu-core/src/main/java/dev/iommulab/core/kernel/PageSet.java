package dev.iommulab.core.kernel;

import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of page addresses in address order: one bitmap per 2 MiB of address space (512 pages, eight {@code long}s)
 * in a map ordered by address, so that adding a page sets a bit (in the bitmap of the last page added, most of the
 * time) instead of boxing a {@code Long} into a tree of every page. An mm indexes the pages that have a leaf in one,
 * the {@link FrameAllocator} the frames given back to it.
 */
public final class PageSet {

    private static final int PAGE_SHIFT = 12;
    private static final int REGION_SHIFT = 21;
    private static final int PAGES_PER_REGION = 1 << (REGION_SHIFT - PAGE_SHIFT);

    /** Bitmaps by region number ({@code page >> 21}, signed: the order of the addresses); none is all zero. */
    private final TreeMap<Long, long[]> regions = new TreeMap<>();
    private long lastRegion;
    private long size;
    /** The bitmap of {@link #lastRegion}, or null. */
    private long[] lastBits;

    /** Adds the page at {@code page} (a multiple of 4 KiB). */
    public void add(long page) {
        long region = page >> REGION_SHIFT;
        long[] bits = lastBits != null && lastRegion == region ? lastBits
                : regions.computeIfAbsent(region, r -> new long[PAGES_PER_REGION / Long.SIZE]);
        int i = bit(page);
        size += (bits[i >>> 6] & 1L << i) == 0 ? 1 : 0;
        bits[i >>> 6] |= 1L << i;
        lastRegion = region;
        lastBits = bits;
    }

    /** Removes the page at {@code page}, if present. */
    public void remove(long page) {
        long region = page >> REGION_SHIFT;
        long[] bits = lastBits != null && lastRegion == region ? lastBits : regions.get(region);
        if (bits == null) {
            return;
        }
        int i = bit(page);
        size -= (bits[i >>> 6] & 1L << i) == 0 ? 0 : 1;
        bits[i >>> 6] &= ~(1L << i);
        if (bits[i >>> 6] == 0 && allZero(bits)) {
            regions.remove(region);
            if (bits == lastBits) {
                lastBits = null;
            }
        }
    }

    private static boolean allZero(long[] bits) {
        for (long w : bits) {
            if (w != 0) {
                return false;
            }
        }
        return true;
    }

    public boolean contains(long page) {
        long[] bits = regions.get(page >> REGION_SHIFT);
        int i = bit(page);
        return bits != null && (bits[i >>> 6] & 1L << i) != 0;
    }

    /** How many pages the set holds. */
    public long size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** Removes and returns the lowest page of the set; the set must not be empty. */
    public long pollFirst() {
        Map.Entry<Long, long[]> first = regions.firstEntry();
        long[] bits = first.getValue();
        int w = 0;
        while (bits[w] == 0) {
            w++;
        }
        long page = (first.getKey() << REGION_SHIFT)
                + ((long) (w * Long.SIZE + Long.numberOfTrailingZeros(bits[w])) << PAGE_SHIFT);
        remove(page);
        return page;
    }

    /** The pages in {@code [start, end)}, in ascending order. */
    public long[] inRange(long start, long end) {
        if (start >= end) {
            return new long[0];
        }
        long[] out = new long[16];
        int n = 0;
        for (Map.Entry<Long, long[]> e : regions.subMap(start >> REGION_SHIFT, true, (end - 1) >> REGION_SHIFT, true)
                .entrySet()) {
            long base = e.getKey() << REGION_SHIFT;
            long[] bits = e.getValue();
            for (int w = 0; w < bits.length; w++) {
                for (long word = bits[w]; word != 0; word &= word - 1) {
                    long page = base + ((long) (w * Long.SIZE + Long.numberOfTrailingZeros(word)) << PAGE_SHIFT);
                    if (page >= start && page < end) {
                        if (n == out.length) {
                            out = Arrays.copyOf(out, n * 2);
                        }
                        out[n++] = page;
                    }
                }
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static int bit(long page) {
        return (int) (page >>> PAGE_SHIFT) & (PAGES_PER_REGION - 1);
    }
}
