package dev.iommulab.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doNothing;
import static org.mockito.Mockito.spy;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The JUnit 5 extension checks the lab's invariants after every test that registers a machine or runner. */
@ExtendWith(InvariantsExtension.class)
class InvariantsExtensionTest {

    private static final Path SCENARIOS = Path.of("..", "scenarios");

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(SCENARIOS)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    private static Scenario load(String name) throws Exception {
        return new ScenarioLoader().load(SCENARIOS.resolve(name));
    }

    @ParameterizedTest
    @MethodSource("examples")
    void run_exampleScenarioWatched_invariantsHoldAfterTest(Path file, InvariantsExtension.Watched watched)
            throws Exception {
        ScenarioRunner runner = watched.runner(new ScenarioRunner());

        RunResult r = runner.run(new ScenarioLoader().load(file));

        assertThat(r.passed()).isTrue();
        assertThat(watched.violations()).isEmpty();
    }

    /** A test that drives a machine by hand (no runner, no scenario file) is watched from its build on. */
    @Test
    void machine_svaDmaDrivenByTest_invariantsHoldAfterTest(InvariantsExtension.Watched watched) throws Exception {
        Machine m = watched.machine(Machine.builder().seed(7).hardware("vtd")
                .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20))
                .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw")).build());
        int pasid = m.svaBind("acc0", "app").pasid();

        DmaOutcome outcome = m.runDma("acc0",
                new DmaJob(0x7f0000000000L, 8192, Access.WRITE, pasid, false, new byte[8192]));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(watched.violations()).isEmpty();
    }

    /** With iopf_free_group() broken, the check the extension runs after the test throws, naming the invariant. */
    @Test
    void verify_groupsNeverFreed_throwsNamingInvariantDeviceAndStep() throws Exception {
        InvariantsExtension.Watched watched = new InvariantsExtension.Watched();
        ScenarioRunner runner = watched.runner(new ScenarioRunner());
        runner.run(load("quickstart.yaml"), new AbstractModule() {
            @Provides
            @Singleton
            Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events,
                      FailureInjector failures, KernelLog log) {
                Iopf s = spy(new Iopf(core, loop, timing, events, failures, log));
                doNothing().when(s).freeGroup(any());
                return s;
            }
        });

        assertThatThrownBy(watched::verify).isInstanceOf(AssertionError.class)
                .hasMessageContaining("fault-param-users: acc0 fault_param users 3, expected 1 + 0 live group(s),"
                        + " after dma at ../scenarios/quickstart.yaml:");
    }

    @Test
    void verify_runnerNeverRan_nothingToCheck() {
        InvariantsExtension.Watched watched = new InvariantsExtension.Watched();
        watched.runner(new ScenarioRunner());

        assertThat(watched.violations()).isEmpty();
    }
}
