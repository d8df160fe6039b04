package dev.iommulab.lab.scenario;

/**
 * Step {@code map}: {@code iommu_map()} in the device's RID paging domain.
 *
 * @param device declared device name
 * @param iova first IO virtual address
 * @param size length in bytes, > 0
 * @param prot letters from r, w, x, or {@code none}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record MapStep(String device, long iova, long size, String prot, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** Validates the fields. */
    public MapStep {
        Checks.name(device, "device");
        Checks.nonNegative(iova, "iova");
        Checks.positive(size, "size");
        Checks.prot(prot);
        Checks.step(atNs, location);
    }
}
