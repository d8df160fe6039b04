package dev.iommulab.hw.iommu;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * A fixed-capacity cache with least-recently-used replacement under any key: a {@link LinkedHashMap} in
 * access order. Entries stay until they are evicted for room or removed by an invalidation, so a cached
 * value is used even after software changed the memory it came from. Capacity 0 caches nothing.
 *
 * <p>The reference the models' own caches are tested against: {@link LongLruCache} and {@link Iotlb} keep this
 * class's behaviour (hits, eviction order, removals) under packed {@code long} tags without allocating a key per
 * lookup; their tests replay operation sequences on both and compare.
 *
 * @param <K> the tag the hardware looks the entry up by
 * @param <V> the cached value
 */
final class LruCache<K, V> {

    private final int capacity;
    private final LinkedHashMap<K, V> entries;

    public LruCache(int capacity) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative: " + capacity);
        }
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > LruCache.this.capacity;
            }
        };
    }

    /** The entry for {@code key}, now the most recently used, or null. */
    public V get(K key) {
        return entries.get(key);
    }

    /** Caches {@code value} as the most recently used entry, evicting the least recently used one for room. */
    public void put(K key, V value) {
        if (capacity > 0) {
            entries.put(key, value);
        }
    }

    /** Drops the entries {@code matches} selects; returns how many. */
    public int removeIf(BiPredicate<? super K, ? super V> matches) {
        int before = entries.size();
        entries.entrySet().removeIf(e -> matches.test(e.getKey(), e.getValue()));
        return before - entries.size();
    }

    public int size() {
        return entries.size();
    }

    public int capacity() {
        return capacity;
    }
}
