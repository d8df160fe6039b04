package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The LRU cache under packed {@code long} tags behind the models' structure caches. */
class LongLruCacheTest {

    @Test
    void put_overCapacity_leastRecentlyUsedEvicted() {
        LongLruCache<String> cache = new LongLruCache<>(2);
        cache.put(1, "a");
        cache.put(2, "b");
        cache.get(1);

        cache.put(3, "c");

        assertThat(cache.get(2)).as("least recently used").isNull();
        assertThat(cache.get(1)).isEqualTo("a");
        assertThat(cache.get(3)).isEqualTo("c");
        assertThat(cache.size()).isEqualTo(2);
        assertThat(cache.capacity()).isEqualTo(2);
    }

    @Test
    void put_capacityZero_cachesNothing() {
        LongLruCache<String> cache = new LongLruCache<>(0);

        cache.put(1, "a");

        assertThat(cache.get(1)).isNull();
        assertThat(cache.size()).isZero();
    }

    @Test
    void removeIf_selectorSeesTags_droppedAndCounted() {
        LongLruCache<String> cache = new LongLruCache<>(8);
        cache.put(-1, "minus one");
        cache.put(Long.MIN_VALUE, "min");
        cache.put(0x1_0000_0005L, "rid 1 pasid 5");

        int dropped = cache.removeIf((tag, v) -> tag < 0);

        assertThat(dropped).isEqualTo(2);
        assertThat(cache.get(-1)).isNull();
        assertThat(cache.get(Long.MIN_VALUE)).isNull();
        assertThat(cache.get(0x1_0000_0005L)).isEqualTo("rid 1 pasid 5");
    }

    @Test
    void constructor_negativeCapacity_refused() {
        assertThatThrownBy(() -> new LongLruCache<>(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
