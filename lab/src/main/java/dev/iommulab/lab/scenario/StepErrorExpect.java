package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code step-error}: steps whose kernel call failed with {@code errno}, optionally only steps of one
 * kind. A step error that some {@code step-error} expectation matches is expected: it does not fail the run.
 *
 * @param step     step kind (e.g. {@code fault-write}), or {@code null} for any
 * @param errno    the errno name, e.g. {@code EINVAL}
 * @param count    exact number of matching step errors, or {@code null} for at least one
 * @param location where the expectation is written
 */
public record StepErrorExpect(String step, String errno, Integer count, SourceLocation location)
        implements Expectation {

    /** Validates the fields. */
    public StepErrorExpect {
        if (step != null) {
            Checks.name(step, "step");
        }
        Checks.name(errno, "errno");
        Checks.optionalRange(count, 0, Integer.MAX_VALUE, "count");
        Objects.requireNonNull(location, "location");
    }

    /** Whether a step error of kind {@code kind} with {@code errnoName} is one this expectation is about. */
    public boolean matches(String kind, String errnoName) {
        return errno.equals(errnoName) && (step == null || step.equals(kind));
    }

    @Override
    public String describe() {
        return "step-error " + errno + Checks.opt("step", step) + Checks.times(count);
    }
}
