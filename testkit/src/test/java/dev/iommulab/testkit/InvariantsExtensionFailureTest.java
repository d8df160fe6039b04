package dev.iommulab.testkit;

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
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.ScenarioLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

/**
 * A test breaking one of the lab's invariants under {@link InvariantsExtension} fails, naming the invariant, the
 * machine and the step; a class without the extension is not checked. The broken tests run in an engine of their own
 * (JUnit's EngineTestKit), never in the build's test run. This class itself does not use the extension, so that
 * the engine it starts is the only one watching.
 */
class InvariantsExtensionFailureTest {

    /** The configuration parameter that lets {@link Broken}'s and {@link Unchecked}'s tests run: set by {@link #run}. */
    private static final String IN_KIT = "iommulab.invariants.broken-tests";

    /** io-pgfault whose iopf_free_group() drops no reference: the fault param keeps a user per group served. */
    private static Module groupsNeverFreed() {
        return new AbstractModule() {
            @Provides
            @Singleton
            Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events,
                      FailureInjector failures, KernelLog log) {
                Iopf s = spy(new Iopf(core, loop, timing, events, failures, log));
                doNothing().when(s).freeGroup(any());
                return s;
            }
        };
    }

    private static Events run(Class<?> testClass, String method) {
        return EngineTestKit.engine("junit-jupiter").configurationParameter(IN_KIT, "true")
                .selectors(selectMethod(testClass, method)).execute().testEvents();
    }

    private static String failure(Events events) {
        assertThat(events.failed().count()).isEqualTo(1);
        return events.failed().list().get(0).getRequiredPayload(TestExecutionResult.class).getThrowable()
                .orElseThrow().getMessage();
    }

    @Test
    void afterEach_scenarioRunBreaksInvariant_failsNamingInvariantDeviceAndStep() {
        String message = failure(run(Broken.class, "scenarioWithGroupsNeverFreed"));

        assertThat(message).startsWith("invariants violated by scenarioWithGroupsNeverFreed():")
                .contains("scenario sva-first-touch: fault-param-users: acc0 fault_param users 3, expected 1 + 0 live"
                        + " group(s), after dma at ../scenarios/quickstart.yaml:");
    }

    @Test
    void afterEach_builtMachineBreaksInvariant_failsNamingInvariantAndMachine() {
        String message = failure(run(Broken.class, "builtMachineWithGroupsNeverFreed"));

        assertThat(message).contains("machine #1 (built by the test): fault-param-users: acc0 fault_param users 2,"
                + " expected 1 + 0 live group(s)");
    }

    @Test
    void afterEach_classWithoutExtension_notChecked() {
        Events events = run(Unchecked.class, "scenarioWithGroupsNeverFreed");

        assertThat(events.succeeded().count()).isEqualTo(1);
        assertThat(events.failed().count()).isZero();
    }

    /** Runs {@link Broken}'s and {@link Unchecked}'s tests only in {@link #run}'s engine. */
    static final class OnlyInKit implements ExecutionCondition {

        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return context.getConfigurationParameter(IN_KIT).isPresent()
                    ? ConditionEvaluationResult.enabled("run by InvariantsExtensionFailureTest")
                    : ConditionEvaluationResult.disabled("breaks invariants on purpose; run by"
                    + " InvariantsExtensionFailureTest");
        }
    }

    /** Tests that break an invariant on purpose under the extension. */
    @ExtendWith({OnlyInKit.class, InvariantsExtension.class})
    static class Broken {

        @Test
        void scenarioWithGroupsNeverFreed() throws Exception {
            new ScenarioRunner().run(new ScenarioLoader().load(InvariantsExtensionTest.SCENARIOS
                    .resolve("quickstart.yaml")), groupsNeverFreed());
        }

        @Test
        void builtMachineWithGroupsNeverFreed() throws Exception {
            Machine m = InvariantsExtensionTest.quickstart().override(groupsNeverFreed()).build();
            int pasid = m.svaBind("acc0", "app").pasid();

            m.runDma("acc0", new DmaJob(0x7f0000000000L, 4096, Access.WRITE, pasid, false, new byte[4096]));
        }
    }

    /** The same broken run in a class that does not use the extension. */
    @ExtendWith(OnlyInKit.class)
    static class Unchecked {

        @Test
        void scenarioWithGroupsNeverFreed() throws Exception {
            new Broken().scenarioWithGroupsNeverFreed();
        }
    }
}
