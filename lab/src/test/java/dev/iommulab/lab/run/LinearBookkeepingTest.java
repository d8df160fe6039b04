package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cost of a fault does not depend on how many faults came before it: the quickstart's first touch, with the DMA
 * and the VMA grown from 1,000 pages to 100 times that, costs the lab the same work per fault — the elements its
 * bookkeeping and its invariant checks visit ({@link Observations#work}) — and the simulation the same events per
 * fault. Counted, not timed: a scan of every earlier decision per group (what the lab did before) makes the work per
 * fault grow with the number of faults, about 100-fold here.
 */
class LinearBookkeepingTest {

    private static final int SMALL = 1_000;
    private static final int LARGE = 100_000;

    private record Cost(long faults, double workPerFault, double eventsPerFault) {
    }

    private static Cost firstTouch(int pages) throws Exception {
        return firstTouch(new ScenarioRunner(), pages);
    }

    private static Cost firstTouch(ScenarioRunner runner, int pages) throws Exception {
        String size = (pages * 4) + "KiB";
        RunResult result = runner.run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"),
                List.of("processes.0.vmas.0.size=" + size, "steps.1.dma.size=" + size,
                        "expect.0.page-response.count=" + pages)));
        assertThat(result.passed()).as("the first touch of %d pages passes", pages).isTrue();
        long faults = result.counters().get("pageRequests");
        assertThat(faults).isEqualTo(pages);
        return new Cost(faults, (double) runner.observations().work() / faults,
                (double) result.counters().get("events") / faults);
    }

    @Test
    void run_hundredTimesTheFaults_sameWorkPerFault() throws Exception {
        Cost small = firstTouch(SMALL);
        Cost large = firstTouch(LARGE);

        assertThat(large.workPerFault()).as("bookkeeping work per fault, %d vs %d faults", LARGE, SMALL)
                .isLessThanOrEqualTo(small.workPerFault() * 1.1);
        assertThat(large.eventsPerFault()).as("simulated events per fault")
                .isLessThanOrEqualTo(small.eventsPerFault() * 1.1);
        assertThat(small.workPerFault()).as("the checks visit something per fault").isGreaterThan(1);
    }

    /**
     * What the lab keeps of a fault once it is settled: nothing in its request ledger (each request is forgotten when
     * it is reported and answered), one entry per PRG response delivered (the report lists them).
     */
    @Test
    void run_firstTouchSettled_ledgerHoldsNothingPerFault() throws Exception {
        ScenarioRunner runner = new ScenarioRunner();

        firstTouch(runner, 10_000);

        assertThat(runner.observations().ledger.held()).as("requests and group balances held").isZero();
        assertThat(runner.observations().delivered).hasSize(10_000);
    }
}
