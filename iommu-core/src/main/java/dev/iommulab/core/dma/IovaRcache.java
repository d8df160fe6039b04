package dev.iommulab.core.dma;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.function.LongPredicate;

/**
 * The IOVA range caches of drivers/iommu/iova.c ({@code struct iova_rcache}): freed ranges of 1, 2, 4 ... 32 pfns
 * (IOVA_RANGE_CACHE_MAX_SIZE = 6 size classes, by order_base_2 of the size) are kept, still allocated in the tree,
 * and handed out again last-in first-out. The kernel keeps per-CPU magazines of IOVA_MAG_SIZE pfns and a depot of
 * full ones; with one CPU and no depot trimming that is one stack per size class, which is what this is.
 */
final class IovaRcache {

    /** IOVA_RANGE_CACHE_MAX_SIZE: size classes 2^0 .. 2^5 pfns are cached. */
    static final int IOVA_RANGE_CACHE_MAX_SIZE = 6;

    @SuppressWarnings("unchecked")
    private final Deque<Long>[] classes = new Deque[IOVA_RANGE_CACHE_MAX_SIZE];

    IovaRcache() {
        for (int i = 0; i < classes.length; i++) {
            classes[i] = new ArrayDeque<>();
        }
    }

    /**
     * The size alloc_iova_fast() and iommu_dma_alloc_iova() really allocate: sizes below
     * 2^(IOVA_RANGE_CACHE_MAX_SIZE - 1) pfns rounded up to a power of two, so that a freed range fits its class.
     */
    static long roundForCache(long size) {
        if (size < 1L << (IOVA_RANGE_CACHE_MAX_SIZE - 1)) {
            return roundUpPow2(size);
        }
        return size;
    }

    private static long roundUpPow2(long size) {
        return size <= 1 ? 1 : Long.highestOneBit(size - 1) << 1;
    }

    /** order_base_2(size): the class of a size, or -1 when it is not cached. */
    static int sizeClass(long size) {
        int log = size <= 1 ? 0 : 64 - Long.numberOfLeadingZeros(size - 1);
        return log < IOVA_RANGE_CACHE_MAX_SIZE ? log : -1;
    }

    /**
     * Counterpart of iova_rcache_get(): the most recently cached range of the class of {@code size} that ends at
     * or below {@code limitPfn} (iova_magazine_pop() skips ranges above the limit), removed from the cache; 0 when
     * none.
     */
    long get(long size, long limitPfn) {
        int c = sizeClass(size);
        if (c < 0) {
            return 0;
        }
        Iterator<Long> it = classes[c].iterator();
        while (it.hasNext()) {
            long pfn = it.next();
            if (pfn <= limitPfn + 1 - size) {
                it.remove();
                return pfn;
            }
        }
        return 0;
    }

    /** Counterpart of iova_rcache_insert(): false when {@code size} is not of a cached class. */
    boolean insert(long pfn, long size) {
        int c = sizeClass(size);
        if (c < 0) {
            return false;
        }
        classes[c].push(pfn);
        return true;
    }

    /**
     * free_cpu_cached_iovas() and free_global_cached_iovas(): every cached range is handed to {@code freeIova}
     * (free_iova()), most recent first, smallest class first.
     */
    void drain(LongPredicate freeIova) {
        for (Deque<Long> c : classes) {
            while (!c.isEmpty()) {
                freeIova.test(c.pop());
            }
        }
    }

    int size() {
        int n = 0;
        for (Deque<Long> c : classes) {
            n += c.size();
        }
        return n;
    }
}
