package dev.iommulab.lab.scenario;

/**
 * Step {@code mprotect}: change the protection of a range of the process address space.
 *
 * @param process declared process name
 * @param start first byte, page aligned
 * @param size length, page aligned and > 0
 * @param prot letters from r, w, x, or {@code none}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Mprotect(String process, long start, long size, String prot, Long atNs,
                       SourceLocation location) implements Step, ProcessRef {

    /** Validates the fields. */
    public Mprotect {
        Checks.name(process, "process");
        Checks.pageAligned(Checks.nonNegative(start, "start"), "start");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        Checks.prot(prot);
        Checks.step(atNs, location);
    }
}
