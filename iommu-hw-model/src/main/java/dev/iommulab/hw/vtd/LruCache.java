package dev.iommulab.hw.vtd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * A fixed-capacity cache with least-recently-used replacement, the storage of the unit's IOTLB,
 * PASID cache and context cache. Capacity 0 caches nothing.
 */
final class LruCache<K, V> {

    private final int capacity;
    private final LinkedHashMap<K, V> entries;

    LruCache(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > LruCache.this.capacity;
            }
        };
    }

    /** The entry for {@code key}, now the most recently used, or null. */
    V get(K key) {
        return entries.get(key);
    }

    void put(K key, V value) {
        if (capacity > 0) {
            entries.put(key, value);
        }
    }

    /** Drops the entries {@code matches} selects; returns how many. */
    int removeIf(BiPredicate<K, V> matches) {
        int before = entries.size();
        entries.entrySet().removeIf(e -> matches.test(e.getKey(), e.getValue()));
        return before - entries.size();
    }

    int size() {
        return entries.size();
    }
}
