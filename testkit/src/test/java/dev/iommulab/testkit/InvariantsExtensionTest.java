package dev.iommulab.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.MachineBuilder;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The JUnit 5 extension checks the lab's invariants after every test of a class that uses it, with nothing registered
 * by the test: every shipped scenario and a machine a test drives itself keep them. That a test breaking one fails is
 * {@link InvariantsExtensionFailureTest}.
 */
@ExtendWith(InvariantsExtension.class)
class InvariantsExtensionTest {

    static final Path SCENARIOS = Path.of("..", "scenarios");

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(SCENARIOS)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    /** The stack of scenarios/quickstart.yaml, without its steps. */
    static MachineBuilder quickstart() {
        return Machine.builder().seed(7).hardware("vtd")
                .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20))
                .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw"));
    }

    @ParameterizedTest
    @MethodSource("examples")
    void run_exampleScenario_invariantsCheckedAfterTest(Path file) throws Exception {
        RunResult r = new ScenarioRunner().run(new ScenarioLoader().load(file));

        assertThat(r.passed()).isTrue();
    }

    /** A test that drives a machine by hand (no runner, no scenario file) is watched from its build on. */
    @Test
    void machine_svaDmaDrivenByTest_invariantsCheckedAfterTest() throws Exception {
        Machine m = quickstart().build();
        int pasid = m.svaBind("acc0", "app").pasid();

        DmaOutcome outcome = m.runDma("acc0",
                new DmaJob(0x7f0000000000L, 8192, Access.WRITE, pasid, false, new byte[8192]));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
    }
}
