package dev.iommulab.lab.invariants;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doNothing;
import static org.mockito.Mockito.spy;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.TestMachines;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The lab's invariants extension fails a test that breaks an invariant without opting out, naming the invariant and
 * the machine, whether the machine ran a scenario or was built by the test; {@link InvariantsExempt} opts a test out,
 * for the invariants it names only, and needs a reason. The broken tests ({@link Broken}) run in an engine of their
 * own (JUnit's EngineTestKit, with extension auto-detection on as in Surefire), never in the build's test run.
 */
class LabInvariantsExtensionTest {

    /** The configuration parameter that lets {@link Broken}'s tests run: set by {@link #run} only. */
    private static final String IN_KIT = "iommulab.invariants.broken-tests";

    private static Events run(String method) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter(IN_KIT, "true")
                .selectors(selectMethod(Broken.class, method)).execute().testEvents();
    }

    private static String failure(Events events) {
        List<Event> failed = events.failed().list();
        assertThat(failed).hasSize(1);
        return failed.get(0).getRequiredPayload(TestExecutionResult.class).getThrowable().orElseThrow().getMessage();
    }

    @Test
    void afterEach_scenarioRunBreaksInvariant_failsNamingInvariantAndScenario() {
        String message = failure(run("scenarioWithoutFaultObserver"));

        assertThat(message).contains("lab invariants: scenarioWithoutFaultObserver() broke 1 invariant(s):",
                "- scenario fault-overflow: fault-recorded-or-lost: nic0 read 0x100000 ended ur with no fault record",
                "@InvariantsExempt(reason = ...)");
    }

    @Test
    void afterEach_builtMachineBreaksInvariant_failsNamingInvariantAndMachine() {
        String message = failure(run("builtMachineWithGroupsNeverFreed"));

        assertThat(message).contains("- machine #1 (built by the test): fault-param-users: acc0 fault_param users 2,"
                + " expected 1 + 0 live group(s)");
    }

    @Test
    void afterEach_exemptForTheBrokenInvariant_passes() {
        Events events = run("exemptForFaultRecordedOrLost");

        assertThat(events.succeeded().count()).isEqualTo(1);
        assertThat(events.failed().count()).isZero();
    }

    @Test
    void afterEach_exemptForAnotherInvariant_stillFails() {
        assertThat(failure(run("exemptForAnotherInvariant"))).contains("fault-recorded-or-lost");
    }

    @Test
    void afterEach_exemptWithBlankReason_failsAskingForReason() {
        assertThat(failure(run("exemptWithoutReason"))).isEqualTo(
                "@InvariantsExempt on exemptWithoutReason() needs a reason");
    }

    /** Runs {@link Broken}'s tests only in {@link #run}'s engine, never in the build's own test run. */
    static final class OnlyInKit implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(IN_KIT).isPresent()
                    ? ConditionEvaluationResult.enabled("run by LabInvariantsExtensionTest")
                    : ConditionEvaluationResult.disabled("breaks invariants on purpose; run by LabInvariantsExtensionTest");
        }
    }

    /** Tests that break an invariant on purpose, run by {@link #run} only. */
    @ExtendWith(OnlyInKit.class)
    static class Broken {

        /** Without the IOMMU's fault observer, a blocked DMA leaves neither a record nor a lost count. */
        private static void runFaultOverflowUnobserved() throws Exception {
            Module unobserved = new AbstractModule() {
                @Override
                protected void configure() {
                    bind(HwFaultObserver.class).toInstance(f -> { });
                }
            };
            new ScenarioRunner().run(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("fault-overflow.yaml")),
                    unobserved);
        }

        @Test
        void scenarioWithoutFaultObserver() throws Exception {
            runFaultOverflowUnobserved();
        }

        /** iopf_free_group() that drops no reference: the fault param keeps a user per group served. */
        @Test
        void builtMachineWithGroupsNeverFreed() throws Exception {
            Machine m = TestMachines.quickstart().override(new AbstractModule() {
                @Provides
                @Singleton
                Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events,
                          FailureInjector failures, KernelLog log) {
                    Iopf s = spy(new Iopf(core, loop, timing, events, failures, log));
                    doNothing().when(s).freeGroup(any());
                    return s;
                }
            }).build();
            int pasid = m.svaBind("acc0", "app").pasid();

            m.runDma("acc0", new DmaJob(TestMachines.APP_BASE, 4096, Access.WRITE, pasid, false, new byte[4096]));
        }

        @Test
        @InvariantsExempt(reason = "the extension's own test", invariants = "fault-recorded-or-lost")
        void exemptForFaultRecordedOrLost() throws Exception {
            runFaultOverflowUnobserved();
        }

        @Test
        @InvariantsExempt(reason = "the extension's own test", invariants = "dma-within-mappings")
        void exemptForAnotherInvariant() throws Exception {
            runFaultOverflowUnobserved();
        }

        @Test
        @InvariantsExempt(reason = " ")
        void exemptWithoutReason() throws Exception {
            runFaultOverflowUnobserved();
        }
    }
}
