package dev.iommulab.lab.scenario;

/**
 * Step {@code run}: advance simulated time ({@code run: idle} or {@code run: {for: TIME}}).
 *
 * @param forNs how long to run in ns, or {@code null} to run until idle
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Run(Long forNs, Long atNs, SourceLocation location) implements Step {

    /** Runs until no work is pending. */
    public static Run idle(SourceLocation location) {
        return new Run(null, null, location);
    }

    /** Validates the fields. */
    public Run {
        Checks.time(forNs, "for");
        Checks.step(atNs, location);
    }
}
