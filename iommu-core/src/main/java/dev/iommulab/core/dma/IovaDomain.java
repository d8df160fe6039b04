package dev.iommulab.core.dma;

import java.util.Map;
import java.util.TreeMap;

/**
 * {@code struct iova_domain} and the allocator of drivers/iommu/iova.c: allocated ranges of page frame numbers
 * (in units of the domain's granule) kept in an ordered tree (the kernel's rbtree, here keyed by {@code pfn_lo})
 * that ends with an anchor node at {@link #IOVA_ANCHOR}, plus the range caches of {@link IovaRcache}.
 *
 * <p>Allocation walks the tree downwards from a cached node ({@code cached_node} above 4 GiB,
 * {@code cached32_node} below), so ranges are handed out top-down below the caller's limit, each aligned to its
 * size rounded up to a power of two when asked ({@code size_aligned}). A walk that finds no gap below the cached
 * node retries once above it; a 32-bit walk that fails remembers the size ({@code max32_alloc_size}) and fails
 * at once for that size or larger until something below 4 GiB is freed. Deterministic: no locks, one CPU.
 */
final class IovaDomain {

    /** IOVA_ANCHOR: the pfn of the node that ends the tree ({@code ~0UL}; here the largest long). */
    static final long IOVA_ANCHOR = Long.MAX_VALUE;

    /** One allocated or reserved range, {@code struct iova}. */
    static final class Iova {
        long pfnLo;
        long pfnHi;

        Iova(long pfnLo, long pfnHi) {
            this.pfnLo = pfnLo;
            this.pfnHi = pfnHi;
        }

        long size() {
            return pfnHi - pfnLo + 1;
        }

        @Override
        public String toString() {
            return String.format("[%#x..%#x]", pfnLo, pfnHi);
        }
    }

    /** The allocator's cursors, to undo an allocation exactly (a failed DMA API call changes nothing). */
    record Cursors(Iova cached, Iova cached32, long max32AllocSize) {
    }

    private final long granule;
    private final long startPfn;
    private final long dma32bitPfn;
    private final TreeMap<Long, Iova> tree = new TreeMap<>();
    private final Iova anchor = new Iova(IOVA_ANCHOR, IOVA_ANCHOR);
    private final IovaRcache rcache = new IovaRcache();
    private Iova cachedNode;
    private Iova cached32Node;
    private long max32AllocSize;
    private boolean lastFromCache;

    /**
     * Counterpart of init_iova_domain(): {@code granule} bytes per pfn (a power of two), no range below
     * {@code startPfn} (at least 1, so IOVA 0 is never handed out).
     */
    IovaDomain(long granule, long startPfn) {
        if (Long.bitCount(granule) != 1 || startPfn < 1) {
            throw new IllegalArgumentException("granule " + granule + ", start pfn " + startPfn);
        }
        this.granule = granule;
        this.startPfn = startPfn;
        this.dma32bitPfn = (1L << 32) / granule;
        this.max32AllocSize = dma32bitPfn;
        tree.put(IOVA_ANCHOR, anchor);
        cachedNode = anchor;
        cached32Node = anchor;
    }

    long granule() {
        return granule;
    }

    /** iova_shift(). */
    int shift() {
        return Long.numberOfTrailingZeros(granule);
    }

    long startPfn() {
        return startPfn;
    }

    /**
     * Counterpart of alloc_iova_fast(): {@code size} pfns below or at {@code limitPfn}, from the range cache when
     * it holds a fitting range of that size class, else from the tree; when the tree has no room and
     * {@code flushRcache}, every cached range is freed back into the tree and the tree is tried once more.
     * Sizes below 2^(IOVA_RANGE_CACHE_MAX_SIZE-1) pfns are rounded up to a power of two first.
     *
     * @return the first pfn, or 0 when there is no room
     */
    long allocIovaFast(long size, long limitPfn, boolean flushRcache) {
        long rounded = IovaRcache.roundForCache(size);
        long pfn = rcache.get(rounded, limitPfn);
        lastFromCache = pfn != 0;
        if (pfn != 0) {
            return pfn;
        }
        Iova iova = allocIova(rounded, limitPfn, true);
        if (iova == null && flushRcache) {
            rcache.drain(this::freeIova);
            iova = allocIova(rounded, limitPfn, true);
        }
        return iova == null ? 0 : iova.pfnLo;
    }

    /**
     * Counterpart of free_iova_fast(): the range starting at {@code pfn} of {@code size} pfns goes to the range
     * cache when its size class is cached (it stays in the tree, reserved for the next allocation of that class),
     * else back to the tree.
     */
    void freeIovaFast(long pfn, long size) {
        if (!rcache.insert(pfn, size)) {
            freeIova(pfn);
        }
    }

    /**
     * Counterpart of alloc_iova(): a new range of {@code size} pfns ending at or below {@code limitPfn}, aligned
     * to {@code size} rounded up to a power of two when {@code sizeAligned}, the highest such below the cached
     * node (__alloc_and_insert_iova_range()).
     *
     * @return the range, or null when none fits
     */
    Iova allocIova(long size, long limitPfn, boolean sizeAligned) {
        if (size <= 0) {
            return null;
        }
        long limit = limitPfn + 1;
        long alignMask = sizeAligned ? ~0L << (64 - Long.numberOfLeadingZeros(size - 1)) : ~0L;
        if (limit <= dma32bitPfn && size >= max32AllocSize) {
            return null;
        }
        Iova curr = limit <= dma32bitPfn ? cached32Node : cachedNode;
        long retryPfn = curr.pfnHi;
        long high = limit;
        long low = startPfn;
        while (true) {
            long newPfn;
            do {
                high = Math.min(high, curr.pfnLo);
                newPfn = (high - size) & alignMask;
                curr = below(curr);
            } while (curr != null && high >= size && newPfn <= curr.pfnHi && newPfn >= low);
            if (high < size || newPfn < low) {
                if (low == startPfn && retryPfn < limit) {
                    high = limit;
                    low = retryPfn + 1;
                    curr = findLimit(limit);
                    continue;
                }
                max32AllocSize = size;
                return null;
            }
            Iova iova = new Iova(newPfn, newPfn + size - 1);
            tree.put(newPfn, iova);
            if (iova.pfnHi < dma32bitPfn) {
                cached32Node = iova;
            } else {
                cachedNode = iova;
            }
            return iova;
        }
    }

    /** Counterpart of free_iova(): the range containing {@code pfn} leaves the tree; false when there is none. */
    boolean freeIova(long pfn) {
        Iova iova = findIova(pfn);
        if (iova == null || iova == anchor) {
            return false;
        }
        deleteUpdate(iova);
        tree.remove(iova.pfnLo);
        return true;
    }

    /** Counterpart of find_iova(): the range containing {@code pfn}, or null. */
    Iova findIova(long pfn) {
        Map.Entry<Long, Iova> e = tree.floorEntry(pfn);
        return e != null && e.getValue().pfnHi >= pfn ? e.getValue() : null;
    }

    /**
     * Counterpart of reserve_iova(): pfns {@code pfnLo..pfnHi} can never be allocated. Ranges already in the tree
     * that overlap are widened or kept, and the rest is inserted as one new range (the cached nodes stay).
     */
    void reserveIova(long pfnLo, long pfnHi) {
        long lo = pfnLo;
        boolean overlap = false;
        for (Iova iova : tree.values().toArray(new Iova[0])) {
            if (iova != anchor && iova.pfnLo <= pfnHi && lo <= iova.pfnHi) {
                if (lo < iova.pfnLo) {
                    tree.remove(iova.pfnLo);
                    iova.pfnLo = lo;
                    tree.put(lo, iova);
                }
                if (pfnHi > iova.pfnHi) {
                    lo = iova.pfnHi + 1;
                }
                if (lo >= iova.pfnLo && pfnHi <= iova.pfnHi) {
                    return;
                }
                overlap = true;
            } else if (overlap) {
                break;
            }
        }
        tree.put(lo, new Iova(lo, pfnHi));
    }

    /** The cursors now, for {@link #undo}. */
    Cursors cursors() {
        return new Cursors(cachedNode, cached32Node, max32AllocSize);
    }

    /**
     * Takes back the allocation of {@code pfn} made since {@code before} was taken, leaving tree, cursors and range
     * cache as they were: a range that came from the range cache goes back on top of its class; one from the tree
     * leaves it.
     */
    void undo(long pfn, long size, boolean fromCache, Cursors before) {
        long rounded = IovaRcache.roundForCache(size);
        if (fromCache) {
            rcache.insert(pfn, rounded);
        } else {
            tree.remove(pfn);
        }
        cachedNode = before.cached();
        cached32Node = before.cached32();
        max32AllocSize = before.max32AllocSize();
    }

    /**
     * Puts the cursors back after a failed allocation (which moved {@code max32_alloc_size}). Ranges a failed
     * alloc_iova_fast() drained from the range cache into the tree stay there: that is the one trace a failure
     * leaves.
     */
    void undoFailed(Cursors before) {
        cachedNode = before.cached();
        cached32Node = before.cached32();
        max32AllocSize = before.max32AllocSize();
    }

    /** Whether the last {@link #allocIovaFast} that succeeded took its range from the range cache. */
    boolean lastFromCache() {
        return lastFromCache;
    }

    /** The ranges in the tree (allocated, cached and reserved), lowest first, the anchor left out. */
    java.util.List<Iova> ranges() {
        return tree.values().stream().filter(i -> i != anchor).toList();
    }

    /** Ranges parked in the range cache. */
    int cachedRanges() {
        return rcache.size();
    }

    /** __cached_rbnode_delete_update(). */
    private void deleteUpdate(Iova free) {
        if (free == cached32Node || free.pfnHi < dma32bitPfn && free.pfnLo >= cached32Node.pfnLo) {
            cached32Node = above(free);
        }
        if (free.pfnLo < dma32bitPfn) {
            max32AllocSize = dma32bitPfn;
        }
        if (free.pfnLo >= cachedNode.pfnLo) {
            cachedNode = above(free);
        }
    }

    /** iova_find_limit(): where a retry above the cached node starts. */
    private Iova findLimit(long limit) {
        if (limit > dma32bitPfn) {
            return anchor;
        }
        return tree.ceilingEntry(limit).getValue();
    }

    private Iova below(Iova iova) {
        Map.Entry<Long, Iova> e = tree.lowerEntry(iova.pfnLo);
        return e == null ? null : e.getValue();
    }

    private Iova above(Iova iova) {
        return tree.higherEntry(iova.pfnLo).getValue();
    }
}
