package dev.iommulab.hw.iommu;

import java.util.Arrays;

/**
 * The storage of {@link LongLruCache} and {@link Iotlb}: at most {@code capacity} values under keys of two
 * {@code long}s, kept in the order of a {@link java.util.LinkedHashMap} in access order — a hit or a refill
 * makes an entry the most recently used, a new entry past capacity evicts the least recently used, a removal
 * walks from least to most recently used. A lookup allocates nothing and costs a hash and a few array reads.
 *
 * <p>Why arrays and not a map: the models look up to three caches per translated request, and a map keyed by a
 * record allocates a key and hashes it through its components every time (docs/performance.md, "Issue 14").
 * Entries live in numbered slots: keys, value and the two links of the recency list (least recently used
 * first) are parallel arrays indexed by slot, and free slots are chained through the same links. The arrays
 * start small and double up to the capacity as entries arrive, so a large configured capacity costs nothing
 * until it is used. Slots are found through an open-addressing index of at least twice as many positions
 * (linear probing, a multiplicative hash of both keys, backward-shift deletion so that no tombstones
 * accumulate).
 *
 * @param <V> the cached value
 */
final class LruSlots<V> {

    /** Selects entries by their keys and value. */
    @FunctionalInterface
    interface Selector<V> {
        boolean test(long hi, long lo, V value);
    }

    private static final int NONE = -1;
    private static final long MIX_HI = 0x9e37_79b9_7f4a_7c15L;
    private static final long MIX = 0xbf58_476d_1ce4_e5b9L;

    /** Slots allocated at first; the arrays double up to the capacity as entries arrive. */
    private static final int FIRST_SLOTS = 16;
    /** The most slots: the index, twice as large at least, must fit an array. */
    private static final int MAX_SLOTS = 1 << 29;

    private final int capacity;
    private long[] his;
    private long[] los;
    private Object[] values;
    /** Toward the least recently used entry; NONE at the end. */
    private int[] older;
    /** Toward the most recently used entry, or the next free slot; NONE at the end. */
    private int[] newer;
    /** Slot + 1 at each position, 0 where free; a power of two of at least twice the slots. */
    private int[] index;
    private int shift;
    private int lru = NONE;
    private int mru = NONE;
    private int free = NONE;
    private int size;
    /** Counts the changes of content (inserts, replaced values, removals), not the reordering of hits. */
    private long version;

    LruSlots(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative: " + capacity);
        }
        this.capacity = capacity;
        allocate(Math.min(capacity, FIRST_SLOTS));
    }

    /** The value under the keys, now the most recently used, or null. */
    V get(long hi, long lo) {
        int s = find(hi, lo);
        return s < 0 ? null : value(s);
    }

    /** The slot of the entry under the keys, now the most recently used, or -1. */
    int find(long hi, long lo) {
        if (size == 0) {
            return NONE;
        }
        int s = index[position(hi, lo)] - 1;
        if (s >= 0) {
            touch(s);
        }
        return s;
    }

    /** The value in slot {@code s}, which holds an entry. */
    @SuppressWarnings("unchecked")
    V value(int s) {
        return (V) values[s];
    }

    /**
     * The content version: it changes whenever an entry is added, replaced or removed, so a slot number
     * taken under one version still names the same entry with the same value while the version is the same.
     */
    long version() {
        return version;
    }

    /**
     * Stores {@code value} under the keys as the most recently used entry (replacing the value already there),
     * evicting the least recently used entry when a new one finds the cache full. Capacity 0 stores nothing.
     *
     * @return the value evicted for room, or null
     */
    V put(long hi, long lo, V value) {
        if (capacity == 0) {
            return null;
        }
        int p = position(hi, lo);
        int s = index[p] - 1;
        version++;
        if (s >= 0) {
            values[s] = value;
            touch(s);
            return null;
        }
        V evicted = null;
        if (size == capacity) {
            evicted = value(lru);
            remove(lru);
            p = position(hi, lo);
        } else if (free == NONE) {
            if (his.length == MAX_SLOTS) {
                throw new IllegalStateException("more than " + MAX_SLOTS + " cached entries");
            }
            allocate(Math.min(Math.min(capacity, MAX_SLOTS), his.length * 2));
            p = position(hi, lo);
        }
        s = free;
        free = newer[s];
        his[s] = hi;
        los[s] = lo;
        values[s] = value;
        index[p] = s + 1;
        older[s] = mru;
        newer[s] = NONE;
        if (mru == NONE) {
            lru = s;
        } else {
            newer[mru] = s;
        }
        mru = s;
        size++;
        return evicted;
    }

    /** Removes the entry under the keys; returns whether there was one. */
    boolean remove(long hi, long lo) {
        if (size == 0) {
            return false;
        }
        int s = index[position(hi, lo)] - 1;
        if (s >= 0) {
            remove(s);
        }
        return s >= 0;
    }

    /** Removes the entries {@code selected} picks, least recently used first; returns how many. */
    @SuppressWarnings("unchecked")
    int removeIf(Selector<? super V> selected) {
        int removed = 0;
        for (int s = lru; s != NONE; ) {
            int next = newer[s];
            if (selected.test(his[s], los[s], (V) values[s])) {
                remove(s);
                removed++;
            }
            s = next;
        }
        return removed;
    }

    int size() {
        return size;
    }

    int capacity() {
        return capacity;
    }

    /** Grows the slot arrays to {@code slots} (the live slots keep their numbers) and rebuilds the index. */
    private void allocate(int slots) {
        int had = his == null ? 0 : his.length;
        his = his == null ? new long[slots] : Arrays.copyOf(his, slots);
        los = los == null ? new long[slots] : Arrays.copyOf(los, slots);
        values = values == null ? new Object[slots] : Arrays.copyOf(values, slots);
        older = older == null ? new int[slots] : Arrays.copyOf(older, slots);
        newer = newer == null ? new int[slots] : Arrays.copyOf(newer, slots);
        for (int s = slots - 1; s >= had; s--) {
            newer[s] = free;
            free = s;
        }
        int positions = Integer.highestOneBit(Math.max(1, slots)) << (slots == MAX_SLOTS ? 1 : 2);
        index = new int[positions];
        shift = Long.numberOfLeadingZeros(positions) + 1;
        for (int s = lru; s != NONE; s = newer[s]) {
            index[position(his[s], los[s])] = s + 1;
        }
    }

    /** Where the keys are in the index, or the free position where they would go. */
    private int position(long hi, long lo) {
        int mask = index.length - 1;
        for (int p = home(hi, lo); ; p = p + 1 & mask) {
            int s = index[p] - 1;
            if (s < 0 || his[s] == hi && los[s] == lo) {
                return p;
            }
        }
    }

    /** The first position probed for the keys (package-private for the collision tests). */
    int home(long hi, long lo) {
        return (int) ((hi * MIX_HI + lo) * MIX >>> shift);
    }

    /** Makes slot {@code s}, which holds an entry, the most recently used. */
    void touch(int s) {
        if (s == mru) {
            return;
        }
        unlink(s);
        older[s] = mru;
        newer[s] = NONE;
        newer[mru] = s;
        mru = s;
    }

    private void remove(int s) {
        unlink(s);
        unindex(position(his[s], los[s]));
        values[s] = null;
        newer[s] = free;
        free = s;
        size--;
        version++;
    }

    /** Takes slot {@code s} out of the recency list, joining its neighbours (or moving an end). */
    private void unlink(int s) {
        int o = older[s];
        int n = newer[s];
        if (o == NONE) {
            lru = n;
        } else {
            newer[o] = n;
        }
        if (n == NONE) {
            mru = o;
        } else {
            older[n] = o;
        }
    }

    /** Empties position {@code hole}, moving later entries of its probe run back so that all stay reachable. */
    private void unindex(int hole) {
        int mask = index.length - 1;
        for (int p = hole + 1 & mask; index[p] != 0; p = p + 1 & mask) {
            int s = index[p] - 1;
            if ((p - home(his[s], los[s]) & mask) >= (p - hole & mask)) {
                index[hole] = index[p];
                hole = p;
            }
        }
        index[hole] = 0;
    }
}
