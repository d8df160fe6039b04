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

    /** Seeded adds (two in three) and removes of pages in {@code [base, base + span pages)}, on both sets. */
    private static void play(long seed, long base, int span, PageSet set, TreeSet<Long> reference) {
        SimRandom random = new SimRandom(seed);
        for (int i = 0; i < 20_000; i++) {
            long page = base + random.nextInt(span) * PAGE;
            if (random.nextInt(3) == 0) {
                set.remove(page);
                reference.remove(page);
            } else {
                set.add(page);
                reference.add(page);
            }
        }
    }

    @Test
    void remove_randomOperations_sameAsTreeSet() {
        PageSet set = new PageSet();
        TreeSet<Long> reference = new TreeSet<>();
        play(11, 0x7f00_0000_0000L, 3 * 512, set, reference);
        long start = 0x7f00_0000_0000L + 100 * PAGE;
        long end = 0x7f00_0000_0000L + 1400 * PAGE;

        assertThat(set.inRange(start, end)).containsExactly(reference.subSet(start, end).stream()
                .mapToLong(Long::longValue).toArray());
        assertThat(set.inRange(0, Long.MAX_VALUE)).hasSize(reference.size());
    }

    /** After seeded adds and removes: the size, membership, and a drain in the lowest-first order of a TreeSet. */
    @Test
    void pollFirst_randomOperations_lowestFirstLikeTreeSet() {
        PageSet set = new PageSet();
        TreeSet<Long> reference = new TreeSet<>();
        play(12, 0, 4 * 512, set, reference);

        assertThat(set.size()).isEqualTo(reference.size());
        for (long page = 0; page < 4 * 512 * PAGE; page += PAGE) {
            assertThat(set.contains(page)).as("contains %#x", page).isEqualTo(reference.contains(page));
        }
        while (!reference.isEmpty()) {
            assertThat(set.pollFirst()).isEqualTo(reference.pollFirst());
        }
        assertThat(set.isEmpty()).isTrue();
    }
}
