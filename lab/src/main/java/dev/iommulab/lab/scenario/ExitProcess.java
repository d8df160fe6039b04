package dev.iommulab.lab.scenario;

/**
 * Step {@code exit-process}: the process exits and its mm is torn down.
 *
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record ExitProcess(String process, Long atNs, SourceLocation location) implements Step, ProcessRef {

    /** Validates the fields. */
    public ExitProcess {
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
