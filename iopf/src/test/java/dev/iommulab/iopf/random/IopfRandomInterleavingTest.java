package dev.iommulab.iopf.random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.iommulab.iopf.random.InterleavingChecker.Outcome;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Seeded random interleavings of io-pgfault (issue 4): for every seed in 1..1000 a {@link RandomInterleaving}
 * mixes partials, LPIGs, allocation failures, removals and re-adds, discards, flushes and duplicate
 * responses, and {@link InterleavingChecker} asserts the invariants of linux-fault-stack.md §8b.
 *
 * <p>A failure names the seed, the violations and every operation. To replay a failing seed exactly:
 * <pre>
 * mvn -B -o test -pl iopf -am -Dtest=IopfRandomInterleavingTest#replay \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Diopf.seed=N
 * </pre>
 * which prints the operation log even when the seed passes; or run {@link RandomInterleaving#main} with
 * the seed as argument from an IDE.
 */
class IopfRandomInterleavingTest {

    static final int SEEDS = 1000;

    static LongStream seeds() {
        return LongStream.rangeClosed(1, SEEDS);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomInterleaving_everyInvariantHolds(long seed) {
        RandomInterleaving.Result result = RandomInterleaving.run(seed);
        if (!result.passed()) {
            fail(result.report());
        }
    }

    /** Replays {@code -Diopf.seed=N} (default 1) and prints its operation log. */
    @Test
    void replay() {
        long seed = Long.getLong("iopf.seed", 1L);
        RandomInterleaving.Result result = RandomInterleaving.run(seed);
        System.out.println(result.report());
        if (!result.passed()) {
            fail(result.report());
        }
    }

    /** Same seed, same run: identical operations, violations and counts. */
    @Test
    void sameSeed_replaysIdentically() {
        for (long seed = 1; seed <= 50; seed++) {
            RandomInterleaving.Result a = RandomInterleaving.run(seed, Sabotage.DROP_RESPONSE);
            RandomInterleaving.Result b = RandomInterleaving.run(seed, Sabotage.DROP_RESPONSE);
            assertThat(b.operations()).isEqualTo(a.operations());
            assertThat(b.violations()).isEqualTo(a.violations());
            assertThat(b.stats().toString()).isEqualTo(a.stats().toString());
        }
    }

    /** The seeds really mix every path the checker covers (summed over the first 200). */
    @Test
    void seeds_exerciseEveryPath() {
        Stats total = new Stats();
        for (long seed = 1; seed <= 200; seed++) {
            total.add(RandomInterleaving.run(seed).stats());
        }
        System.out.println("seeds 1..200 exercised: " + total);
        for (Outcome outcome : Outcome.values()) {
            assertThat(total.outcome(outcome)).as(outcome + " in " + total).isGreaterThan(20);
        }
        assertThat(total.groupsWithPartials).as(total.toString()).isGreaterThan(100);
        assertThat(total.refusedGroups).as(total.toString()).isGreaterThan(20);
        assertThat(total.pendingAtRemove).as(total.toString()).isGreaterThan(20);
        assertThat(total.readds).as(total.toString()).isGreaterThan(20);
        assertThat(total.discards).as(total.toString()).isGreaterThan(20);
        assertThat(total.flushesThatWaited).as(total.toString()).isGreaterThan(20);
        assertThat(total.flushes - total.flushesThatWaited).as(total.toString()).isGreaterThan(20);
        assertThat(total.duplicateResponses).as(total.toString()).isGreaterThan(20);
    }

    /**
     * The checker can fail: against each deliberately broken behaviour some early seed fails, its report
     * names the seed and carries the operation log, and the same seed fails the same way again.
     */
    @ParameterizedTest
    @EnumSource(value = Sabotage.class, names = "NONE", mode = EnumSource.Mode.EXCLUDE)
    void brokenBehaviour_isReportedWithItsSeed(Sabotage sabotage) {
        RandomInterleaving.Result failed = null;
        for (long seed = 1; seed <= 50 && failed == null; seed++) {
            RandomInterleaving.Result r = RandomInterleaving.run(seed, sabotage);
            failed = r.passed() ? null : r;
        }
        assertThat(failed).as(sabotage + " went unnoticed for 50 seeds").isNotNull();
        String report = failed.report();
        assertThat(report).contains("seed " + failed.seed() + ":").contains("-Diopf.seed=" + failed.seed())
                .contains("operations:").contains("#1 t=0");
        assertThat(RandomInterleaving.run(failed.seed(), sabotage).report()).isEqualTo(report);
        System.out.println(sabotage + " caught:\n" + report.lines().limit(4).reduce((a, b) -> a + "\n" + b)
                .orElse(""));
    }
}
