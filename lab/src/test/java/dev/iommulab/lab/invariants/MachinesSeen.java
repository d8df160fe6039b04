package dev.iommulab.lab.invariants;

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

/**
 * Every machine built in this JVM since the last {@link #drain()}, with how to check its invariants: a machine a
 * {@link ScenarioRunner} ran a scenario on by its run's invariants ({@link ScenarioRunner#checkInvariants()}, so what
 * the test did to the machine after the run is judged too), any other by an {@link InvariantWatch} attached as it was
 * built (expecting from {@code err_abort} the code of the machine's own {@code iopf.abort-response}). Registered with
 * both discovery hooks ({@code META-INF/services} of the lab's tests); ServiceLoader makes one instance per hook, so
 * the record itself is static.
 */
public final class MachinesSeen implements Machine.Observer, ScenarioRunner.Observer {

    /** What one machine's invariants are checked by, and how it is named in a failure. */
    private record Seen(String what, Supplier<List<RunResult.InvariantEntry>> check) {
    }

    private static final Map<Machine, Seen> SEEN = new LinkedHashMap<>();
    private static int built;

    @Override
    public void built(Machine machine) {
        built++;
        InvariantWatch watch = InvariantWatch.attach(machine, abortCode(machine));
        SEEN.put(machine, new Seen("machine #" + built + " (built by the test)", watch::check));
    }

    @Override
    public void ran(ScenarioRunner runner, RunResult result) {
        Machine machine = runner.machine();
        String what = "scenario " + result.scenario();
        SEEN.put(machine, new Seen(what, () -> runner.machine() == machine ? runner.checkInvariants()
                : result.invariants()));
    }

    /** A violated invariant of a machine: {@code what} names the machine. */
    record Violation(String what, String invariant, String detail) {

        @Override
        public String toString() {
            return what + ": " + invariant + ": " + detail;
        }
    }

    /** The violated invariants of every machine seen since the last call, in the order seen; forgets the machines. */
    static List<Violation> drain() {
        List<Violation> violations = new ArrayList<>();
        try {
            for (Seen seen : SEEN.values()) {
                seen.check().get().stream().filter(i -> !i.holds())
                        .forEach(i -> violations.add(new Violation(seen.what(), i.name(), i.detail())));
            }
        } finally {
            SEEN.clear();
            built = 0;
        }
        return violations;
    }

    /** The code the machine's {@code iopf.abort-response} makes err_abort send (FAILURE when none is bound). */
    private static PageResponseCode abortCode(Machine machine) {
        return Optional.ofNullable(machine.iopf().policies()).map(p -> p.abort().code())
                .orElse(PageResponseCode.FAILURE);
    }
}
