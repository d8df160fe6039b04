package dev.iommulab.lab.scenario;

/**
 * Step {@code fail-allocations}: the next {@code count} allocations at {@code site} fail.
 *
 * @param site allocation site, e.g. {@code iopf-group}, {@code iopf-partial}
 * @param count how many allocations fail, >= 1
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record FailAllocations(String site, int count, Long atNs, SourceLocation location) implements Step {

    /** Validates the fields. */
    public FailAllocations {
        Checks.name(site, "site");
        Checks.range(count, 1, Integer.MAX_VALUE, "count");
        Checks.step(atNs, location);
    }
}
