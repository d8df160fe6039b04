package dev.iommulab.lab.scenario;

/**
 * Step {@code ioas-unmap}: IOMMU_IOAS_UNMAP of the areas inside {@code [iova, iova + size)} of the process's IOAS
 * (out of every HWPT, IOTLB and device-TLBs flushed, pages unpinned).
 *
 * @param process declared process name
 * @param iova first I/O virtual address
 * @param size bytes, > 0
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record IoasUnmap(String process, long iova, long size, Long atNs, SourceLocation location)
        implements Step, ProcessRef {

    /** Validates the fields. */
    public IoasUnmap {
        Checks.name(process, "process");
        Checks.nonNegative(iova, "iova");
        Checks.positive(size, "size");
        Checks.step(atNs, location);
    }
}
