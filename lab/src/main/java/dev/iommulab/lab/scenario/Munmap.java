package dev.iommulab.lab.scenario;

/**
 * Step {@code munmap}: remove a range from the process address space.
 *
 * @param process declared process name
 * @param start first byte, page aligned
 * @param size length, page aligned and > 0
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Munmap(String process, long start, long size, Long atNs, SourceLocation location)
        implements Step, ProcessRef {

    /** Validates the fields. */
    public Munmap {
        Checks.name(process, "process");
        Checks.pageAligned(Checks.nonNegative(start, "start"), "start");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        Checks.step(atNs, location);
    }
}
