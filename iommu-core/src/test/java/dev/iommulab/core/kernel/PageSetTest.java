package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.SimRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** {@link PageSet} answers as a sorted set of page addresses does, across 2 MiB bitmaps and after removals. */
class PageSetTest {

    private static final long PAGE = 4096;

    @Test
    void inRange_pagesAcrossRegionsAddedOutOfOrder_ascendingWithinBounds() {
        PageSet set = new PageSet();
        long[] pages = {0x7f00_0020_0000L, 0x1000, 0x7f00_001f_f000L, 0x7f00_0000_0000L, 0x7f00_0040_3000L};
        for (long p : pages) {
            set.add(p);
        }

        assertThat(set.inRange(0, Long.MAX_VALUE)).containsExactly(0x1000, 0x7f00_0000_0000L, 0x7f00_001f_f000L,
                0x7f00_0020_0000L, 0x7f00_0040_3000L);
        assertThat(set.inRange(0x7f00_0000_1000L, 0x7f00_0040_3000L)).as("end excluded")
                .containsExactly(0x7f00_001f_f000L, 0x7f00_0020_0000L);
        assertThat(set.inRange(0x2000, 0x2000)).isEmpty();
    }

    @Test
    void remove_randomOperations_sameAsTreeSet() {
        PageSet set = new PageSet();
        TreeSet<Long> reference = new TreeSet<>();
        SimRandom random = new SimRandom(11);
        for (int i = 0; i < 20_000; i++) {
            long page = 0x7f00_0000_0000L + random.nextInt(3 * 512) * PAGE;
            if (random.nextInt(3) == 0) {
                set.remove(page);
                reference.remove(page);
            } else {
                set.add(page);
                reference.add(page);
            }
        }
        long start = 0x7f00_0000_0000L + 100 * PAGE;
        long end = 0x7f00_0000_0000L + 1400 * PAGE;

        assertThat(set.inRange(start, end)).containsExactly(reference.subSet(start, end).stream()
                .mapToLong(Long::longValue).toArray());
        assertThat(set.inRange(0, Long.MAX_VALUE)).hasSize(reference.size());
    }

    /** Seeded adds and removes, then a drain: size, membership and the lowest-first order of a TreeSet. */
    @Test
    void pollFirst_randomOperations_lowestFirstLikeTreeSet() {
        PageSet set = new PageSet();
        TreeSet<Long> reference = new TreeSet<>();
        SimRandom random = new SimRandom(12);
        for (int i = 0; i < 5_000; i++) {
            long page = random.nextInt(4 * 512) * PAGE;
            if (random.nextInt(3) == 0) {
                set.remove(page);
                reference.remove(page);
            } else {
                set.add(page);
                reference.add(page);
            }
            assertThat(set.size()).as("size after operation %d (seed 12)", i).isEqualTo(reference.size());
            assertThat(set.contains(page)).as("contains %#x (seed 12)", page).isEqualTo(reference.contains(page));
        }
        while (!reference.isEmpty()) {
            assertThat(set.pollFirst()).isEqualTo(reference.pollFirst());
        }
        assertThat(set.isEmpty()).isTrue();
    }
}
