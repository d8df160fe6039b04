package dev.iommulab.lab.scenario;

/**
 * Step {@code fault-read}: a raw {@code read()} of the process's fault fd by the scenario author, with a buffer of
 * {@code bytes}; the records read go into the report.
 *
 * @param process declared process name
 * @param bytes the buffer size (any value: the kernel's checks apply)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record FaultRead(String process, int bytes, Long atNs, SourceLocation location) implements Step, ProcessRef {

    /** Validates the fields. */
    public FaultRead {
        Checks.name(process, "process");
        Checks.range(bytes, 0, Integer.MAX_VALUE, "bytes");
        Checks.step(atNs, location);
    }
}
