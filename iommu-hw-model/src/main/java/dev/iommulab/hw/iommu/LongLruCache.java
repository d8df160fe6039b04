package dev.iommulab.hw.iommu;

/**
 * A fixed-capacity cache under {@code long} tags with least-recently-used replacement: the storage of the
 * structure caches an IOMMU model keeps in front of its in-memory structures (VT-d context and PASID caches,
 * RISC-V DDT and PDT caches). The vendor packs what the hardware tags an entry with (requester ID, PASID,
 * device and process IDs) into the tag, so a lookup allocates nothing. Entries stay until they are evicted
 * for room or removed by an invalidation, so a cached value is used even after software changed the memory
 * it came from. Capacity 0 caches nothing. Behaves as {@link LruCache} does with the tag as key.
 *
 * @param <V> the cached value
 */
public final class LongLruCache<V> extends SlotCache<V> {

    /** Selects entries by tag and value. */
    @FunctionalInterface
    public interface Selector<V> {
        boolean test(long tag, V value);
    }

    /** @param capacity entries held; 0 caches nothing */
    public LongLruCache(int capacity) {
        super(capacity);
    }

    /** The entry under {@code tag}, now the most recently used, or null. */
    public V get(long tag) {
        int s = slots.find(0, tag);
        lastHit = s;
        return s < 0 ? null : slots.value(s);
    }

    /** Caches {@code value} as the most recently used entry, evicting the least recently used one for room. */
    public void put(long tag, V value) {
        slots.put(0, tag, value);
    }

    /** Drops the entries {@code selected} picks; returns how many. */
    public int removeIf(Selector<? super V> selected) {
        return slots.removeIf((hi, tag, v) -> selected.test(tag, v));
    }
}
