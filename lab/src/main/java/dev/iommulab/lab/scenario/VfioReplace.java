package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-replace}: a new HWPT (as {@code vfio-attach}) replaces the one attached at the
 * device's RID or PASID (iommufd_device_replace()): the old attachment's outstanding groups are answered INVALID
 * (origin {@code auto-response}), and the old HWPT is destroyed.
 *
 * @param device declared device name, bound with {@code vfio-bind}
 * @param pasid the PASID (1..2^20-1), or {@code null} for the RID ({@code IOMMU_NO_PASID})
 * @param fault whether the HWPT is fault-capable (file default true)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioReplace(String device, Integer pasid, boolean fault, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** Validates the fields. */
    public VfioReplace {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 1, Checks.MAX_PASID, "pasid");
        Checks.step(atNs, location);
    }
}
