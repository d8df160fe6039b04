package dev.iommulab.lab.scenario;

import dev.iommulab.hw.HwModelModule;
import java.util.List;

/**
 * Step {@code ioas-map}: IOMMU_IOAS_MAP of the process's memory at {@code addr} to {@code iova} in its IOAS, pinned
 * now; with {@code onFault} only registered with the process's client, which pins and maps a page when the device
 * faults on it.
 *
 * @param process declared process name
 * @param iova the I/O virtual address, page aligned
 * @param addr the process virtual address, page aligned
 * @param size bytes, a positive multiple of the page size; at most {@link #MAX_PINNED_SIZE} without {@code onFault}
 * @param prot {@code r} or {@code rw} ({@code w} implies readable here, as the client maps)
 * @param onFault map when the device faults rather than now (file default false)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record IoasMap(String process, long iova, long addr, long size, String prot, boolean onFault, Long atNs,
                      SourceLocation location)
        implements Step, ProcessRef {

    /** Protections an IOAS mapping takes. */
    public static final List<String> PROTS = List.of("r", "rw");

    /**
     * The largest {@code size} pinned now (without {@code onFault}): the machine's physical memory. IOMMU_IOAS_MAP pins
     * every page before it maps one, and no more pages than memory holds can be pinned.
     */
    public static final long MAX_PINNED_SIZE = HwModelModule.MEMORY_BYTES;

    /** Validates the fields. */
    public IoasMap {
        Checks.name(process, "process");
        Checks.pageAligned(Checks.nonNegative(iova, "iova"), "iova");
        Checks.pageAligned(Checks.nonNegative(addr, "addr"), "addr");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        if (!onFault && size > MAX_PINNED_SIZE) {
            throw new IllegalArgumentException(pinnedTooLarge(size));
        }
        Checks.oneOf(prot, PROTS, "prot");
        Checks.step(atNs, location);
    }

    /** The problem of a pinned map of {@code size} bytes, more than {@link #MAX_PINNED_SIZE}. */
    static String pinnedTooLarge(long size) {
        return String.format("size %#x: a map pinned now is at most %#x bytes, the machine's physical memory (or use"
                + " on-fault: true)", size, MAX_PINNED_SIZE);
    }

    /** Whether the mapping is writable. */
    public boolean writable() {
        return prot.contains("w");
    }
}
