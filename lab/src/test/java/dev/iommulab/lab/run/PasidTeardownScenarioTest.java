package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.report.TextReporter;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * scenarios/pasid-teardown.yaml (issue 6 items 3 and 6): page request groups in flight when a process unbinds on
 * VT-d. Part 1 (PASID 1): the device driver's PASID stop, then iommu_sva_unbind_device() (reference §4.2, §3.3).
 * Part 2 (PASID 2): an LPIG meeting a full page request queue, answered Success by the unit (VT-d spec Table 31,
 * §8 item 45) and the stale partials discarded by prq_event_thread() through iopf_queue_discard_partial() (§8 item
 * 46). Part 3 (PASID 3): unbind without a stop — intel_iommu_drain_pasid_prq() leaves parked partials alone, a late
 * LPIG is answered Invalid Request by the unit (PASID entry not present, §4.3), and iopf_queue_remove_device()
 * frees the partials when intel_iommu_disable_iopf() drops the last IOPF reference (§3.5).
 */
class PasidTeardownScenarioTest {

    private static RunResult r;

    @BeforeAll
    static void run() throws Exception {
        r = new ScenarioRunner().run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("pasid-teardown.yaml")));
    }

    private static List<RunResult.PageResponseEntry> responses(int pasid) {
        return r.pageResponses().stream().filter(p -> p.pasid() != null && p.pasid() == pasid).toList();
    }

    private static int parked(int afterStep, Integer pasid) {
        return r.parkedAfterSteps().stream().filter(p -> p.afterStep() == afterStep
                && (pasid == null || pasid.equals(p.pasid()))).mapToInt(RunResult.ParkedEntry::count).sum();
    }

    @Test
    void run_wholeFile_passesWithEveryInvariant() {
        assertThat(r.outcome()).as(new TextReporter().render(r)).isEqualTo("pass");
        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.counters()).containsEntry("pageRequests", 3L + 127 + 2).containsEntry("iopfGroups", 1L);
    }

    /** Part 1: the stop's LPIG closes group 1 ([P, P, L]); one SVA answer; nothing of PASID 1 parked after unbind. */
    @Test
    void run_part1ProperStop_groupAnsweredOnceNothingParked() {
        assertThat(parked(5, 1)).isEqualTo(2);
        assertThat(responses(1)).extracting(RunResult.PageResponseEntry::grpid, RunResult.PageResponseEntry::code,
                RunResult.PageResponseEntry::origin).containsExactly(tuple(1, "SUCCESS", "sva"));
        assertThat(parked(7, 1)).isZero();
        assertThat(r.journey()).anySatisfy(s -> assertThat(s.message()).isEqualTo("dmar0: stop marker for PASID 1 dropped"));
    }

    /** Part 2: the LPIG is answered by the unit itself, PRO set; the 127 queued requests are parked, then discarded. */
    @Test
    void run_part2PrqFull_hardwareAnswersLpigAndStalePartialsDiscarded() {
        assertThat(responses(2)).extracting(RunResult.PageResponseEntry::grpid, RunResult.PageResponseEntry::code,
                RunResult.PageResponseEntry::origin).containsExactly(tuple(2, "SUCCESS", "hardware"));
        assertThat(r.journey()).anySatisfy(s -> assertThat(s.message())
                .isEqualTo("dmar0: page request queue full: PRO set, PRGI 2 not queued"));
        assertThat(r.journey()).anySatisfy(s -> assertThat(s.message()).isEqualTo("grpid 2 parked (127 partial)"));
        assertThat(r.log()).filteredOn(l -> l.contains("PRQ overflow")).extracting(l -> l.substring(l.indexOf("DMAR")))
                .containsExactly("DMAR: IOMMU: dmar0: PRQ overflow detected", "DMAR: IOMMU: dmar0: PRQ overflow cleared");
        assertThat(parked(9, null)).isZero();
    }

    /**
     * Part 3: after the unbind without a stop the two partials are still parked; the late LPIG gets Invalid Request
     * from the unit (fault 0x59 recorded and logged) and never reaches io-pgfault; app2's unbind, the last IOPF
     * attachment, disables PRI and frees them without a response.
     */
    @Test
    void run_part3StopSkipped_partialsParkedUntilLastIopfAttachmentGoes() {
        assertThat(parked(11, 3)).isEqualTo(2);
        assertThat(parked(12, 3)).isEqualTo(2);
        assertThat(responses(3)).extracting(RunResult.PageResponseEntry::grpid, RunResult.PageResponseEntry::code,
                RunResult.PageResponseEntry::origin).containsExactly(tuple(3, "INVALID", "hardware"));
        assertThat(r.faultRecords()).extracting(RunResult.FaultRecordEntry::pasid, RunResult.FaultRecordEntry::reason,
                RunResult.FaultRecordEntry::recorded).containsExactly(tuple(3, "PASID_ENTRY_NOT_PRESENT", true));
        assertThat(parked(14, 3)).isEqualTo(2);
        assertThat(parked(15, null)).isZero();
        assertThat(r.devices()).singleElement().satisfies(d -> {
            assertThat(d.priEnabled()).isFalse();
            assertThat(d.partialsParked()).isZero();
            assertThat(d.creditsInUse()).isZero();
        });
    }
}
