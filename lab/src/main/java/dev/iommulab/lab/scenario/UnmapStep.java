package dev.iommulab.lab.scenario;

/**
 * Step {@code unmap}: {@code iommu_unmap()} in the device's RID paging domain.
 *
 * @param device declared device name
 * @param iova first IO virtual address
 * @param size length in bytes, > 0
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record UnmapStep(String device, long iova, long size, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** Validates the fields. */
    public UnmapStep {
        Checks.name(device, "device");
        Checks.nonNegative(iova, "iova");
        Checks.positive(size, "size");
        Checks.step(atNs, location);
    }
}
