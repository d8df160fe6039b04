package dev.iommulab.lab.scenario;

/**
 * Step {@code fault-close}: the process closes its fault fd only; nothing is answered, its groups stay owed.
 *
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record FaultClose(String process, Long atNs, SourceLocation location) implements Step, ProcessRef {

    /** Validates the fields. */
    public FaultClose {
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
