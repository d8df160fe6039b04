package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * Step {@code ioas-map}: IOMMU_IOAS_MAP of the process's memory at {@code addr} to {@code iova} in its IOAS, pinned
 * now; with {@code onFault} only registered with the process's client, which pins and maps a page when the device
 * faults on it.
 *
 * @param process declared process name
 * @param iova the I/O virtual address, page aligned
 * @param addr the process virtual address, page aligned
 * @param size bytes, a positive multiple of the page size
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

    /** Validates the fields. */
    public IoasMap {
        Checks.name(process, "process");
        Checks.pageAligned(Checks.nonNegative(iova, "iova"), "iova");
        Checks.pageAligned(Checks.nonNegative(addr, "addr"), "addr");
        Checks.pageAligned(Checks.positive(size, "size"), "size");
        Checks.oneOf(prot, PROTS, "prot");
        Checks.step(atNs, location);
    }

    /** Whether the mapping is writable. */
    public boolean writable() {
        return prot.contains("w");
    }
}
