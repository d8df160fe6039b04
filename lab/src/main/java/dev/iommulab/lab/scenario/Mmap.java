package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * Step {@code mmap}: add a mapping to the process address space (mmap with MAP_FIXED_NOREPLACE).
 *
 * @param process declared process name
 * @param start first byte, page aligned
 * @param size length, page aligned and > 0
 * @param prot letters from r, w, x, or {@code none} (file default {@code rw})
 * @param backing {@code anonymous} (file default) or {@code none}: backed by nothing, so every fault in it is
 *                VM_FAULT_SIGBUS (like a file mapping past the end of its file)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Mmap(String process, long start, long size, String prot, String backing, Long atNs,
                   SourceLocation location) implements Step, ProcessRef {

    /** The {@code backing} values. */
    public static final List<String> BACKINGS = List.of("anonymous", "none");

    /** Validates the fields. */
    public Mmap {
        Checks.name(process, "process");
        Checks.pageAligned(Checks.nonNegative(start, "start"), "start");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        Checks.prot(prot);
        if (!BACKINGS.contains(backing)) {
            throw new IllegalArgumentException("backing must be one of " + BACKINGS + ": " + backing);
        }
        Checks.step(atNs, location);
    }
}
