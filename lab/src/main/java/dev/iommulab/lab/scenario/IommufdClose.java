package dev.iommulab.lab.scenario;

/**
 * Step {@code iommufd-close}: the process closes everything it holds of iommufd (its VFIO devices are unbound, the
 * fault fd closed, the context released: the fault object's remaining groups answered INVALID by its destroy).
 *
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record IommufdClose(String process, Long atNs, SourceLocation location) implements Step, ProcessRef {

    /** Validates the fields. */
    public IommufdClose {
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
