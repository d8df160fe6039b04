package dev.iommulab.hw.iommu;

import java.util.Arrays;

/**
 * An IOTLB: completed translations, least recently used replaced first, looked up by a tag and the page of
 * the input address. The tag is whatever the vendor tags its entries with, packed by the vendor into a
 * {@code long} (VT-d: domain ID and PASID; RISC-V: GV/GSCID and PSCV/PSCID), so that a hit allocates no tag
 * object. The page sizes the IOTLB files entries under are data: VT-d files each translation under its own
 * page size and probes 4 KiB, 2 MiB and 1 GiB in turn; the RISC-V model files every translation under the
 * 4 KiB page of the IOVA that filled it. An entry's key is the tag and {@link #filedUnder the page}, two
 * {@code long}s, in an LRU store that allocates nothing on a lookup.
 *
 * <p>The IOTLB decides neither hits nor invalidations: a vendor uses a cached entry only when it grants the
 * request (otherwise it walks again), and selects what an invalidation removes with its own rules over the
 * tag and the entry ({@link #invalidate}).
 *
 * @param <E> the vendor's cached translation
 */
public final class Iotlb<E> extends SlotCache<E> {

    /** Selects entries by the vendor's tag and entry. */
    @FunctionalInterface
    public interface Selector<E> {
        boolean test(long tag, E entry);
    }

    private final long[] pageSizes;

    /**
     * @param capacity  entries held; 0 caches nothing
     * @param pageSizes the sizes entries are filed under, probed in this order on a lookup (powers of two)
     */
    public Iotlb(int capacity, long... pageSizes) {
        super(capacity);
        if (pageSizes.length == 0 || Arrays.stream(pageSizes).anyMatch(s -> s < 4096 || Long.bitCount(s) != 1)) {
            throw new IllegalArgumentException("page sizes must be powers of two of at least 4096: "
                    + Arrays.toString(pageSizes));
        }
        this.pageSizes = pageSizes.clone();
    }

    /** The entry of {@code tag} whose page covers {@code addr}, now the most recently used, or null. */
    public E lookup(long tag, long addr) {
        for (long size : pageSizes) {
            int s = slots.find(tag, filedUnder(addr, size));
            if (s >= 0) {
                lastHit = s;
                return slots.value(s);
            }
        }
        lastHit = -1;
        return null;
    }

    /**
     * The entry of {@code tag} filed under the page of {@code size} that holds {@code addr}, now the most recently
     * used, or null: one probe, for a cache whose sizes in use change (a function's ATC).
     */
    public E lookup(long tag, long addr, long size) {
        int s = slots.find(tag, filedUnder(addr, size));
        lastHit = s;
        return s < 0 ? null : slots.value(s);
    }

    /** Drops the entry of {@code tag} filed under the page of {@code size} that holds {@code addr}, if any. */
    public boolean remove(long tag, long addr, long size) {
        return slots.remove(tag, filedUnder(addr, size));
    }

    /**
     * Caches {@code entry} for {@code tag} under the page of {@code size} that holds {@code addr}.
     *
     * @return the entry evicted for room (the least recently used), or null
     */
    public E fill(long tag, long addr, long size, E entry) {
        return slots.put(tag, filedUnder(addr, size), entry);
    }

    /**
     * The second half of an entry's key: the base of the page of {@code size} that holds {@code addr}, whose low
     * 12 bits are zero, with log2 of the size in them. Base and size are both recovered from it, so entries of
     * different sizes at the same base never share a key.
     */
    static long filedUnder(long addr, long size) {
        return addr & -size | Long.numberOfTrailingZeros(size);
    }

    /** Drops every entry {@code selected} picks; returns how many. */
    public int invalidate(Selector<? super E> selected) {
        return slots.removeIf((tag, page, e) -> selected.test(tag, e));
    }
}
