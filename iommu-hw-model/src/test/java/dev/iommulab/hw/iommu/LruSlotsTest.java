package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The array store behind {@link LongLruCache} and {@link Iotlb}: the same hits, misses, eviction order and
 * removals as {@link LruCache} (a {@code LinkedHashMap} in access order) over any sequence of operations, and
 * entries that share a probe run stay reachable whatever is removed.
 */
class LruSlotsTest {

    private record Key(long hi, long lo) {
    }

    /**
     * A seeded sequence of lookups, fills (new and existing keys), selective removals and evictions, replayed on
     * both stores: every result, every size and the order removals see the entries in must agree. The keys come
     * from a small set, so entries hit, collide, get evicted and come back.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 7, 16, 17, 64, 100})
    void operations_seededSequence_sameAsLinkedHashMapCache(int capacity) {
        SplittableRandom random = new SplittableRandom(capacity);
        LruSlots<Integer> slots = new LruSlots<>(capacity);
        LruCache<Key, Integer> reference = new LruCache<>(capacity);
        int keys = capacity * 3 + 2;
        for (int op = 0; op < 20_000; op++) {
            Key key = new Key(random.nextInt(3) - 1L, random.nextInt(keys) * 4096L - 4096);
            int choice = random.nextInt(100);
            if (choice < 50) {
                assertThat(slots.get(key.hi(), key.lo())).as("get %s at op %d", key, op)
                        .isEqualTo(reference.get(key));
            } else if (choice < 95) {
                slots.put(key.hi(), key.lo(), op);
                reference.put(key, op);
            } else {
                int modulus = 2 + random.nextInt(5);
                List<Key> seen = new ArrayList<>();
                List<Key> seenByReference = new ArrayList<>();
                int removed = slots.removeIf((hi, lo, v) -> {
                    seen.add(new Key(hi, lo));
                    return v % modulus == 0;
                });
                int removedByReference = reference.removeIf((k, v) -> {
                    seenByReference.add(k);
                    return v % modulus == 0;
                });
                assertThat(removed).as("removed at op %d", op).isEqualTo(removedByReference);
                assertThat(seen).as("least recently used first").containsExactlyElementsOf(seenByReference);
            }
            assertThat(slots.size()).isEqualTo(reference.size());
        }
    }

    @Test
    void remove_firstEntryOfACollidingRun_laterEntriesStillFound() {
        LruSlots<String> slots = new LruSlots<>(8);
        long[] colliding = keysWithTheSameHome(slots, 4);
        for (long lo : colliding) {
            slots.put(0, lo, "page " + lo);
        }

        int removed = slots.removeIf((hi, lo, v) -> lo == colliding[0]);

        assertThat(removed).isEqualTo(1);
        assertThat(slots.get(0, colliding[0])).isNull();
        for (int i = 1; i < colliding.length; i++) {
            assertThat(slots.get(0, colliding[i])).isEqualTo("page " + colliding[i]);
        }
        slots.put(0, colliding[0], "back");
        assertThat(slots.get(0, colliding[0])).isEqualTo("back");
        assertThat(slots.size()).isEqualTo(4);
    }

    @Test
    void put_collidingKeysOverCapacity_evictsLeastRecentlyUsedOfTheRun() {
        LruSlots<String> slots = new LruSlots<>(3);
        long[] colliding = keysWithTheSameHome(slots, 4);
        slots.put(0, colliding[0], "a");
        slots.put(0, colliding[1], "b");
        slots.put(0, colliding[2], "c");
        slots.get(0, colliding[0]);

        slots.put(0, colliding[3], "d");

        assertThat(slots.get(0, colliding[1])).as("least recently used").isNull();
        assertThat(slots.get(0, colliding[0])).isEqualTo("a");
        assertThat(slots.get(0, colliding[2])).isEqualTo("c");
        assertThat(slots.get(0, colliding[3])).isEqualTo("d");
    }

    @Test
    void put_keysDifferingOnlyInHi_distinctEntries() {
        LruSlots<String> slots = new LruSlots<>(4);
        slots.put(0, 0x1000, "tag 0");
        slots.put(-1, 0x1000, "tag -1");
        slots.put(Long.MIN_VALUE, 0x1000, "tag min");

        assertThat(slots.get(0, 0x1000)).isEqualTo("tag 0");
        assertThat(slots.get(-1, 0x1000)).isEqualTo("tag -1");
        assertThat(slots.get(Long.MIN_VALUE, 0x1000)).isEqualTo("tag min");
        assertThat(slots.get(Long.MAX_VALUE, 0x1000)).isNull();
    }

    /** The arrays start at 16 slots and grow; entries and their order survive every growth. */
    @Test
    void put_pastTheFirstAllocation_keepsEntriesAndOrder() {
        LruSlots<Integer> slots = new LruSlots<>(1000);
        for (int i = 0; i < 1000; i++) {
            slots.put(i, i, i);
        }
        slots.get(0, 0);

        slots.put(1000, 1000, 1000);

        assertThat(slots.size()).isEqualTo(1000);
        assertThat(slots.get(1, 1)).as("least recently used after 0 was read").isNull();
        assertThat(slots.get(0, 0)).isZero();
        assertThat(slots.get(999, 999)).isEqualTo(999);
    }

    @Test
    void put_existingKey_replacesValueAndMakesItMostRecent() {
        LruSlots<String> slots = new LruSlots<>(2);
        slots.put(0, 1, "old");
        slots.put(0, 2, "other");

        slots.put(0, 1, "new");
        slots.put(0, 3, "third");

        assertThat(slots.get(0, 1)).isEqualTo("new");
        assertThat(slots.get(0, 2)).isNull();
        assertThat(slots.size()).isEqualTo(2);
    }

    @Test
    void put_capacityZero_storesNothing() {
        LruSlots<String> slots = new LruSlots<>(0);

        slots.put(0, 0, "a");

        assertThat(slots.get(0, 0)).isNull();
        assertThat(slots.size()).isZero();
        assertThat(slots.removeIf((hi, lo, v) -> true)).isZero();
    }

    @Test
    void constructor_negativeCapacity_refused() {
        assertThatThrownBy(() -> new LruSlots<>(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    /** {@code n} keys (lo, with hi 0) whose probe starts at the same position of {@code slots}' index. */
    private static long[] keysWithTheSameHome(LruSlots<?> slots, int n) {
        long[] keys = new long[n];
        int home = slots.home(0, 0);
        int found = 0;
        for (long lo = 0; found < n; lo += 4096) {
            if (slots.home(0, lo) == home) {
                keys[found++] = lo;
            }
        }
        return keys;
    }
}
