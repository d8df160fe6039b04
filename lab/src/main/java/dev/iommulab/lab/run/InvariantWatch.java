package dev.iommulab.lab.run;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.lab.machine.Machine;
import java.util.List;

/**
 * Watches a machine that a test drives itself (without a {@link ScenarioRunner}) and checks the lab's
 * invariants on what it saw. Attach it right after the machine is built ({@link Machine#builder()}), before
 * anything runs.
 */
public final class InvariantWatch {

    private final Machine machine;
    private final Observations observations;

    private InvariantWatch(Machine machine, PageResponseCode abortCode) {
        this.machine = machine;
        this.observations = new Observations(machine, abortCode);
    }

    /** Starts watching {@code machine}; {@code err_abort} is expected to send FAILURE (the kernel's choice). */
    public static InvariantWatch attach(Machine machine) {
        return attach(machine, PageResponseCode.FAILURE);
    }

    /** Starts watching {@code machine}; {@code abortCode} is what the abort policy makes err_abort send. */
    public static InvariantWatch attach(Machine machine, PageResponseCode abortCode) {
        return new InvariantWatch(machine, abortCode);
    }

    /** Labels the events that follow with {@code step} (violations name it). */
    public void step(String step) {
        observations.stepStarting(step);
    }

    /** Checks every invariant against what was observed so far. */
    public List<RunResult.InvariantEntry> check() {
        observations.finished();
        return new Invariants(machine, observations).check();
    }

    public Machine machine() {
        return machine;
    }
}
