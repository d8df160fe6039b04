package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-attach}: a new PASID-compatible paging HWPT on the owning process's IOAS
 * ({@code IOMMU_HWPT_ALLOC_PASID}, fault-capable with the process's fault object unless {@code fault} is false) is
 * attached at the device's RID or a PASID (iommufd_device_attach()).
 *
 * @param device declared device name, bound with {@code vfio-bind}
 * @param pasid the PASID (1..2^20-1), or {@code null} for the RID ({@code IOMMU_NO_PASID})
 * @param fault whether the HWPT is fault-capable (file default true)
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioAttach(String device, Integer pasid, boolean fault, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** Validates the fields. */
    public VfioAttach {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 1, Checks.MAX_PASID, "pasid");
        Checks.step(atNs, location);
    }
}
