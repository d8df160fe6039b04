package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.hw.sim.TraceEvent;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;

/**
 * scenarios/interleaved-groups.yaml: partials of three groups arrive interleaved; each LPIG closes only
 * its own group (iopf_group_alloc() in drivers/iommu/io-pgfault.c takes the partials of its grpid).
 */
class InterleavedGroupsTest {

    private final RunResult r;

    InterleavedGroupsTest() throws Exception {
        r = new ScenarioRunner().run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve(
                "interleaved-groups.yaml")));
    }

    @Test
    void run_interleavedPartials_eachGroupHoldsItsOwnPartials() {
        assertThat(r.journey()).filteredOn(s -> s.symbol().equals("iopf_group_alloc")).extracting(TraceEvent.Step::message)
                .containsExactly("group grpid 2 with 3 fault(s) -> SVA domain handler",
                        "group grpid 1 with 3 fault(s) -> SVA domain handler",
                        "group grpid 3 with 2 fault(s) -> SVA domain handler");
    }

    @Test
    void run_badPageInGroupTwo_onlyGroupTwoInvalidInLpigOrder() {
        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::grpid, RunResult.PageResponseEntry::code,
                RunResult.PageResponseEntry::pasid).containsExactly(
                tuple(2, "INVALID", 1), tuple(1, "SUCCESS", 1),
                tuple(3, "SUCCESS", 1));
        assertThat(r.passed()).isTrue();
    }
}
