package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doNothing;
import static org.mockito.Mockito.spy;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.invariants.InvariantsExempt;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariants of DESIGN.md §5 / linux-fault-stack.md §8b are all reported for the example stack, and each one
 * fails when a component is deliberately broken (a Mockito spy of io-pgfault bound with
 * Modules.override, as LayerOverrideTest does).
 */
class InvariantsTest {

    private static RunResult run(String file, Module... overrides) throws Exception {
        return new ScenarioRunner().run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve(file)), overrides);
    }

    private static RunResult.InvariantEntry invariant(RunResult r, String name) {
        return r.invariants().stream().filter(i -> i.name().equals(name)).findFirst().orElseThrow();
    }

    /** io-pgfault as the kernel has it, except for what {@code breakIt} does to the spy. */
    private static Module brokenIopf(Consumer<Iopf> breakIt) {
        return new AbstractModule() {
            @Provides
            @Singleton
            Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
                      KernelLog log) {
                Iopf s = spy(new Iopf(core, loop, timing, events, failures, log));
                breakIt.accept(s);
                return s;
            }
        };
    }

    /** Whether they hold is judged after every lab test (LabInvariantsExtension); here: that all are reported. */
    @Test
    void check_quickstart_reportsEveryInvariantInOrder() throws Exception {
        RunResult r = run("quickstart.yaml");

        assertThat(r.invariants()).extracting(RunResult.InvariantEntry::name).containsExactly(
                "lpig-answered-exactly-once", "non-lpig-never-answered", "response-addressed-by-lpig",
                "group-holds-earlier-partials", "fault-param-users", "nothing-outlives-remove-device",
                "response-codes-by-origin", "pri-credits-within-allocation", "dma-within-mappings",
                "fault-recorded-or-lost", "iommufd-groups-held-once");
    }

    /** iopf_free_group() that drops no reference: users stay above 1 + live groups (§8b.3). */
    @Test
    @InvariantsExempt(reason = "breaks iopf_free_group() so that the checker must report the users left over",
            invariants = "fault-param-users")
    void faultParamUsers_groupsNeverFreed_failsNamingDeviceAndStep() throws Exception {
        RunResult r = run("quickstart.yaml", brokenIopf(s -> doNothing().when(s).freeGroup(any())));

        RunResult.InvariantEntry users = invariant(r, "fault-param-users");
        assertThat(users.holds()).isFalse();
        assertThat(users.detail()).contains("acc0 fault_param users 3, expected 1 + 0 live group(s)",
                "after dma at ../scenarios/quickstart.yaml");
        assertThat(r.passed()).isFalse();
    }

    /** A group response that is lost (the group is freed, nothing is sent): §8b.1 fails. */
    @Test
    @InvariantsExempt(reason = "loses a group response so that the checker must report the unanswered group (whose"
            + " group the lost response never released, hence the users too)",
            invariants = {"lpig-answered-exactly-once", "fault-param-users"})
    void lpigAnsweredExactlyOnce_groupResponseLost_failsNamingGroupAndStep() throws Exception {
        RunResult r = run("quickstart.yaml", brokenIopf(s -> doAnswer(inv -> {
            s.freeGroup(inv.getArgument(0));
            return null;
        }).when(s).groupResponse(any(IopfGroup.class), any())));

        RunResult.InvariantEntry inv = invariant(r, "lpig-answered-exactly-once");
        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).contains("acc0 PASID 1 grpid 0 never answered (step dma at ../scenarios/quickstart.yaml:");
    }

    /** Without the IOMMU's fault observer, a blocked DMA leaves neither a record nor a lost count. */
    @Test
    @InvariantsExempt(reason = "unhooks the IOMMU's fault observer so that the checker must report the blocked DMAs",
            invariants = "fault-recorded-or-lost")
    void faultRecordedOrLost_faultsNotObserved_failsNamingDeviceAndStep() throws Exception {
        RunResult r = run("fault-overflow.yaml", new AbstractModule() {
            @Override
            protected void configure() {
                bind(HwFaultObserver.class).toInstance(f -> { });
            }
        });

        RunResult.InvariantEntry inv = invariant(r, "fault-recorded-or-lost");
        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).contains("nic0 read 0x100000 ended ur with no fault record and no lost-record count"
                + " (step dma at ../scenarios/fault-overflow.yaml:");
    }

    @Test
    void check_exampleWithOverflow_lostRecordsCountAsLost() throws Exception {
        RunResult r = run("fault-overflow.yaml");

        assertThat(invariant(r, "fault-recorded-or-lost").holds()).isTrue();
    }

    @Test
    void abortCode_policyInvalid_expectsInvalidFromAbort(@TempDir Path dir) throws Exception {
        Path file = ScenarioFiles.write(dir, "p.yaml", """
                name: p
                hardware: { model: vtd }
                policies: { iopf.abort-response: INVALID }
                steps:
                  - run: idle
                """);

        assertThat(ScenarioRunner.abortCode(new ScenarioLoader().load(file))).isEqualTo(PageResponseCode.INVALID);
    }
}
