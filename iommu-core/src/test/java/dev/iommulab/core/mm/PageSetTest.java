package dev.iommulab.core.mm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.SimRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The populated-page index of {@link MmPages}: a sorted set of page addresses, one bit per page. */
class PageSetTest {

    private static final long PAGE = 4096;
    private static final long REGION = 2L << 20;

    @Test
    void between_pagesAcrossRegions_ascendingWithinBoundsOnly() {
        PageSet set = new PageSet();
        long base = 0x7f00_0000_0000L;
        long[] pages = {base + REGION - PAGE, base, base + REGION, base + 3 * REGION + 5 * PAGE, base + 64 * PAGE};
        for (long p : pages) {
            set.add(p);
        }

        assertThat(set.between(base, base + 4 * REGION)).containsExactly(base, base + 64 * PAGE,
                base + REGION - PAGE, base + REGION, base + 3 * REGION + 5 * PAGE);
        assertThat(set.between(base + PAGE, base + REGION)).containsExactly(base + 64 * PAGE, base + REGION - PAGE);
        assertThat(set.between(base + REGION, base + REGION)).isEmpty();
    }

    @Test
    void remove_lastPageOfRegion_regionGoneAndAddStillWorks() {
        PageSet set = new PageSet();
        set.add(5 * PAGE);
        set.remove(5 * PAGE);
        set.remove(9 * PAGE);
        set.add(6 * PAGE);

        assertThat(set.between(0, REGION)).containsExactly(6 * PAGE);
    }

    /** Seeded: the same adds and removes on a {@link TreeSet} give the same ranges. */
    @Test
    void between_seededAddsAndRemoves_matchesTreeSet() {
        SimRandom random = new SimRandom(42);
        PageSet set = new PageSet();
        TreeSet<Long> reference = new TreeSet<>();
        for (int i = 0; i < 20_000; i++) {
            long page = random.nextInt(4096) * PAGE;
            if (random.nextInt(3) == 0) {
                set.remove(page);
                reference.remove(page);
            } else {
                set.add(page);
                reference.add(page);
            }
        }
        for (int i = 0; i < 200; i++) {
            long a = random.nextInt(4200) * PAGE;
            long b = random.nextInt(4200) * PAGE;
            long lo = Math.min(a, b);
            long hi = Math.max(a, b);
            assertThat(set.between(lo, hi)).as("[%#x, %#x)", lo, hi)
                    .containsExactly(reference.subSet(lo, hi).stream().mapToLong(Long::longValue).toArray());
        }
    }
}
