package dev.iommulab.testkit;

import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.InvariantWatch;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Checks the lab's invariants (DESIGN.md §5, linux-fault-stack.md §8b) after every test, as Caffeine
 * checks its caches' invariants after every test. A test asks for a {@link Watched} parameter and
 * registers the machines it builds ({@link Watched#machine}, right after {@code build()}) or the
 * scenario runners it uses ({@link Watched#runner}); after the test, a violated invariant fails it with
 * the invariant's name and what broke it.
 *
 * <pre>{@code
 * @ExtendWith(InvariantsExtension.class)
 * class MyTest {
 *     @Test
 *     void run_myScenario_passes(InvariantsExtension.Watched watched) throws Exception {
 *         ScenarioRunner runner = watched.runner(new ScenarioRunner());
 *         runner.run(scenario);
 *     }
 *
 *     @Test
 *     void dma_myMachine_completes(InvariantsExtension.Watched watched) throws Exception {
 *         Machine m = watched.machine(Machine.builder().device("acc0", "00:03.0", d -> d.ats().pri().pasidBits(20))
 *                 .process("app", p -> p.vma(0x7f0000000000L, 65536, "rw")).build());
 *         int pasid = m.svaBind("acc0", "app").pasid();
 *         m.runDma("acc0", new DmaJob(0x7f0000000000L, 4096, Access.WRITE, pasid, false, new byte[4096]));
 *     }
 * }
 * }</pre>
 */
public final class InvariantsExtension implements AfterEachCallback, ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            InvariantsExtension.class);

    /** What one test registered for checking. */
    public static final class Watched {

        private final List<InvariantWatch> machines = new ArrayList<>();
        private final List<ScenarioRunner> runners = new ArrayList<>();

        /** Watches {@code machine} from now on; register it before it runs anything. */
        public Machine machine(Machine machine) {
            machines.add(InvariantWatch.attach(machine));
            return machine;
        }

        /** Checks the last run of {@code runner} (if it ran) after the test. */
        public ScenarioRunner runner(ScenarioRunner runner) {
            runners.add(runner);
            return runner;
        }

        /** The violated invariants of everything registered, as {@code name: detail}. */
        public List<String> violations() {
            List<RunResult.InvariantEntry> entries = new ArrayList<>();
            machines.forEach(w -> entries.addAll(w.check()));
            runners.stream().filter(r -> r.machine() != null).forEach(r -> entries.addAll(r.checkInvariants()));
            return entries.stream().filter(e -> !e.holds()).map(e -> e.name() + ": " + e.detail()).toList();
        }

        /**
         * @throws AssertionError naming every violated invariant
         */
        public void verify() {
            List<String> violations = violations();
            if (!violations.isEmpty()) {
                throw new AssertionError("invariants violated:" + System.lineSeparator() + "  "
                        + String.join(System.lineSeparator() + "  ", violations));
            }
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == Watched.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return watched(context);
    }

    @Override
    public void afterEach(ExtensionContext context) {
        Watched watched = context.getStore(NAMESPACE).get(Watched.class, Watched.class);
        if (watched != null) {
            watched.verify();
        }
    }

    private static Watched watched(ExtensionContext context) {
        return context.getStore(NAMESPACE).getOrComputeIfAbsent(Watched.class, k -> new Watched(), Watched.class);
    }
}
