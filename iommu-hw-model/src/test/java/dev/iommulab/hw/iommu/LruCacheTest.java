package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The LRU cache behind every IOMMU model's structure caches and IOTLB. */
class LruCacheTest {

    @Test
    void put_overCapacity_leastRecentlyUsedEvicted() {
        LruCache<Integer, String> cache = new LruCache<>(2);
        cache.put(1, "a");
        cache.put(2, "b");
        cache.get(1);

        cache.put(3, "c");

        assertThat(cache.get(2)).as("least recently used").isNull();
        assertThat(cache.get(1)).isEqualTo("a");
        assertThat(cache.get(3)).isEqualTo("c");
        assertThat(cache.size()).isEqualTo(2);
    }

    @Test
    void put_capacityZero_cachesNothing() {
        LruCache<Integer, String> cache = new LruCache<>(0);

        cache.put(1, "a");

        assertThat(cache.get(1)).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void removeIf_selectedEntries_droppedAndCounted() {
        LruCache<Integer, String> cache = new LruCache<>(8);
        for (int i = 0; i < 5; i++) {
            cache.put(i, "v" + i);
        }

        int dropped = cache.removeIf((k, v) -> k % 2 == 0);

        assertThat(dropped).isEqualTo(3);
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.get(1)).isEqualTo("v1");
        assertThat(cache.get(2)).isNull();
    }

    @Test
    void constructor_negativeCapacity_refused() {
        assertThatThrownBy(() -> new LruCache<>(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
