package dev.iommulab.lab.run;

import com.google.inject.Module;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.lab.machine.GuestMachines;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.scenario.GuestSpec;
import dev.iommulab.lab.scenario.GuestStep;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.Step;
import dev.iommulab.lab.scenario.StepErrorExpect;
import dev.iommulab.lab.scenario.StepKinds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Runs a scenario: boots its machine, performs the steps in order (each when the previous step's work
 * is idle, or at its {@code at} time), and collects the result with invariants and expectations.
 */
public final class ScenarioRunner {

    /**
     * Sees every scenario run, for test kits that check each run's invariants after the test ({@link
     * Machine.Observer} sees its machine being built first). Found by {@link ServiceLoader}
     * ({@code META-INF/services/dev.iommulab.lab.run.ScenarioRunner$Observer}), looked up once per JVM; production
     * registers none. An observer only watches.
     */
    public interface Observer {

        /** {@code runner} has just run a scenario on {@link ScenarioRunner#machine()}, with {@code result}. */
        void ran(ScenarioRunner runner, RunResult result);
    }

    /** The observers found on the class path, looked up on the first run. */
    private static final class Observers {
        static final List<Observer> FOUND = ServiceLoader.load(Observer.class, ScenarioRunner.class.getClassLoader())
                .stream().map(ServiceLoader.Provider::get).toList();
    }

    /** The machine, after {@link #run}, for tests that look deeper than the result. */
    private Machine machine;
    private Observations observations;
    private Map<String, GuestRun> guests = Map.of();
    private int journeyLimit = DEFAULT_JOURNEY_LIMIT;

    /** How many journey steps a result keeps in full unless told otherwise; the rest are counted per layer. */
    public static final int DEFAULT_JOURNEY_LIMIT = 1_000;

    /**
     * Keep the first {@code steps} journey steps of the runs that follow in full ({@link RunResult#journey()}),
     * {@link Integer#MAX_VALUE} for all of them; the rest are counted per layer only.
     */
    public ScenarioRunner journeyLimit(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("journey limit must be >= 0: " + steps);
        }
        this.journeyLimit = steps;
        return this;
    }

    /**
     * Runs {@code scenario}; {@code overrides} replace bindings of the layer modules.
     *
     * @throws MachineConfigException when the scenario asks for hardware or steps this lab lacks ({@link #check})
     */
    public RunResult run(Scenario scenario, Module... overrides) throws MachineConfigException {
        check(scenario);
        machine = Machine.boot(scenario, overrides);
        JourneyRecorder journey = new JourneyRecorder(journeyLimit);
        machine.loop().trace().addSink(journey);
        Observations observations = new Observations(machine, abortCode(scenario));
        StepExecutor executor = new StepExecutor(machine, observations);
        Map<String, GuestRun> guests = new LinkedHashMap<>();
        for (GuestSpec g : scenario.guests()) {
            Machine gm = GuestMachines.boot(g, scenario, machine);
            Observations go = new Observations(gm, abortCode(scenario));
            guests.put(g.name(), new GuestRun(g.name(), gm, go, new StepExecutor(gm, go, g.name())));
        }
        List<RunResult.StepErrorEntry> errors = new ArrayList<>();
        for (Step step : scenario.steps()) {
            if (step.atNs() != null) {
                machine.loop().runUntil(Math.max(step.atNs(), machine.loop().now()));
            } else {
                machine.loop().runUntilIdle();
            }
            String label = step.kind() + " at " + step.location();
            observations.stepStarting(label);
            guests.values().forEach(g -> g.observations().stepStarting(label));
            try {
                if (step instanceof GuestStep gs) {
                    guests.get(gs.guest()).executor().execute(gs.step());
                } else {
                    executor.execute(step);
                }
            } catch (KernelException e) {
                errors.add(new RunResult.StepErrorEntry(step.kind(), step.location().toString(), e.errno().name(),
                        e.getMessage(), expected(scenario, step.kind(), e.errno().name())));
            }
        }
        observations.finished();
        guests.values().forEach(g -> g.observations().finished());
        this.observations = observations;
        this.guests = guests;
        RunResult result = new ResultAssembler(scenario, machine, observations, journey, errors,
                List.copyOf(guests.values())).assemble();
        Observers.FOUND.forEach(o -> o.ran(this, result));
        return result;
    }

    /** Whether a {@code step-error} expectation of {@code scenario} is about this error. */
    private static boolean expected(Scenario scenario, String kind, String errno) {
        return scenario.expectations().stream().anyMatch(x -> x instanceof StepErrorExpect se
                && se.matches(kind, errno));
    }

    /**
     * Checks that this lab can run {@code scenario}: its hardware model and options exist and every step
     * kind has an entry in {@link StepKinds}. Boots nothing.
     *
     * @throws MachineConfigException naming the first thing that is missing
     */
    public static void check(Scenario scenario) throws MachineConfigException {
        checkSteps(scenario, Set.copyOf(StepKinds.keys()));
        Machine.checkHardware(scenario);
        GuestMachines.check(scenario);
    }

    /** The step part of {@link #check}: every step kind of {@code scenario} is in {@code supported}. */
    static void checkSteps(Scenario scenario, Set<String> supported) throws MachineConfigException {
        List<Step> unsupported = scenario.steps().stream().filter(s -> !supported.contains(s.kind())).toList();
        if (!unsupported.isEmpty()) {
            Step first = unsupported.get(0);
            throw new MachineConfigException("steps", first.location() + ": step '" + first.kind()
                    + "' is not available yet; available: " + String.join(", ", supported.stream().sorted().toList()));
        }
    }

    /**
     * The code {@code err_abort} must send: the scenario's {@code iopf.abort-response}, else FAILURE; null
     * for a policy value that is not a response code (then FAILURE or INVALID is accepted).
     */
    static PageResponseCode abortCode(Scenario scenario) {
        String policy = scenario.policies().get("iopf.abort-response");
        if (policy == null) {
            return PageResponseCode.FAILURE;
        }
        try {
            return PageResponseCode.valueOf(policy.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Checks the invariants of the last run again, now (e.g. after a test drove its machine further).
     *
     * @throws IllegalStateException before the first run
     */
    public List<RunResult.InvariantEntry> checkInvariants() {
        if (observations == null) {
            throw new IllegalStateException("nothing has run yet");
        }
        observations.finished();
        return new Invariants(machine, observations).check();
    }

    public Machine machine() {
        return machine;
    }

    /** The machine of guest {@code name} in the last run, for tests that look deeper than the result; else null. */
    public Machine guest(String name) {
        GuestRun g = guests.get(name);
        return g == null ? null : g.machine();
    }

    /** What the last run observed, for tests that look at its work items and its work; null before the first run. */
    Observations observations() {
        return observations;
    }
}
