package dev.iommulab.hw.riscv;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.function.BiPredicate;

/**
 * A bounded least-recently-used map: the model's IOATC (riscv-iommu "Caching in-memory data
 * structures"). Entries stay until they are evicted for room or invalidated by a command, so a cached
 * value is used even after software changed the memory it came from. Capacity 0 caches nothing.
 */
final class LruCache<K, V> {

    private final int capacity;
    private final LinkedHashMap<K, V> map;

    LruCache(int capacity) {
        this.capacity = capacity;
        this.map = new LinkedHashMap<>(16, 0.75f, true);
    }

    V get(K key) {
        return map.get(key);
    }

    void put(K key, V value) {
        if (capacity == 0) {
            return;
        }
        map.put(key, value);
        if (map.size() > capacity) {
            Iterator<K> eldest = map.keySet().iterator();
            eldest.next();
            eldest.remove();
        }
    }

    /** Drops every entry for which {@code match} holds. */
    void invalidate(BiPredicate<K, V> match) {
        map.entrySet().removeIf(e -> match.test(e.getKey(), e.getValue()));
    }

    int size() {
        return map.size();
    }
}
