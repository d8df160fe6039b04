package dev.iommulab.testkit;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.InvariantWatch;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks the lab's invariants (DESIGN.md §5, linux-fault-stack.md §8b: the {@code invariants} of a run) after every
 * test of a class that uses it, as Caffeine checks its caches after every test. Every machine built during the test —
 * by {@code Machine.builder().build()}, {@code Machine.boot} or a {@link ScenarioRunner}, in the test or in its
 * {@code @BeforeEach}/{@code @AfterEach} methods — is seen through the lab's discovery hooks, with nothing to register:
 * a machine a runner ran a scenario on is judged by its run's invariants, checked again after the test
 * ({@link ScenarioRunner#checkInvariants()}, so what the test did to it afterwards counts too); any other machine by
 * an {@link InvariantWatch} attached as it was built. A violated invariant fails the test with its name, the machine
 * and what broke it.
 *
 * <pre>{@code
 * @ExtendWith(InvariantsExtension.class)
 * class MyTest {
 *     @Test
 *     void run_myScenario_passes() throws Exception {
 *         assertThat(new ScenarioRunner().run(scenario).passed()).isTrue();
 *     }
 *
 *     @Test
 *     void dma_myMachine_completes() throws Exception {
 *         Machine m = Machine.builder().device("acc0", "00:03.0", d -> d.ats().pri().pasidBits(20))
 *                 .process("app", p -> p.vma(0x7f0000000000L, 65536, "rw")).build();
 *         int pasid = m.svaBind("acc0", "app").pasid();
 *         m.runDma("acc0", new DmaJob(0x7f0000000000L, 4096, Access.WRITE, pasid, false, new byte[4096]));
 *     }
 * }
 * }</pre>
 *
 * <p>The class is also the observer of the lab's hooks ({@link Machine.Observer}, {@link ScenarioRunner.Observer};
 * {@code META-INF/services} of this jar, which is how they find it); it records only while a test of a class using
 * the extension runs, so machines elsewhere in the same JVM cost nothing. Tests run one at a time (JUnit's default).
 */
public final class InvariantsExtension implements BeforeEachCallback, AfterEachCallback, Machine.Observer,
        ScenarioRunner.Observer {

    /** What one machine's invariants are checked by, and how a failure names it. */
    private record Seen(String what, Supplier<List<RunResult.InvariantEntry>> check) {
    }

    /** The machines seen during the current test; null while no test using the extension runs. */
    private static Map<Machine, Seen> seen;

    /** For JUnit ({@code @ExtendWith}) and for the lab's hooks ({@code ServiceLoader}). */
    public InvariantsExtension() {
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        seen = new LinkedHashMap<>();
    }

    /**
     * @throws AssertionError naming every violated invariant of every machine seen during the test
     */
    @Override
    public void afterEach(ExtensionContext context) {
        Map<Machine, Seen> machines = seen;
        seen = null;
        List<String> violations = new ArrayList<>();
        machines.values().forEach(s -> s.check().get().stream().filter(i -> !i.holds())
                .forEach(i -> violations.add(s.what() + ": " + i.name() + ": " + i.detail())));
        if (!violations.isEmpty()) {
            throw new AssertionError("invariants violated by " + context.getDisplayName() + ":" + System.lineSeparator()
                    + "  " + String.join(System.lineSeparator() + "  ", violations));
        }
    }

    /** Called by the lab as {@code machine} is built: watches it from now on, during a test using the extension. */
    @Override
    public void built(Machine machine) {
        if (seen != null) {
            PageResponseCode abort = Optional.ofNullable(machine.iopf().policies()).map(p -> p.abort().code())
                    .orElse(PageResponseCode.FAILURE);
            InvariantWatch watch = InvariantWatch.attach(machine, abort);
            seen.put(machine, new Seen("machine #" + (seen.size() + 1) + " (built by the test)", watch::check));
        }
    }

    /** Called by the lab when {@code runner} has run a scenario: its machine is judged by that run. */
    @Override
    public void ran(ScenarioRunner runner, RunResult result) {
        if (seen != null) {
            Machine machine = runner.machine();
            seen.put(machine, new Seen("scenario " + result.scenario(), () -> runner.machine() == machine
                    ? runner.checkInvariants() : result.invariants()));
        }
    }
}
