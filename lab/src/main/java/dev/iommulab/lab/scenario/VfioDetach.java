package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-detach}: iommufd_device_detach() at the device's RID or a PASID — the driver drops IOPF, the fault
 * object answers INVALID every group of that attachment it holds (origin {@code auto-response}) — then IOMMU_DESTROY
 * of the HWPT.
 *
 * @param device declared device name
 * @param pasid the PASID (1..2^20-1), or {@code null} for the RID ({@code IOMMU_NO_PASID})
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioDetach(String device, Integer pasid, Long atNs, SourceLocation location) implements Step, DeviceRef {

    /** Validates the fields. */
    public VfioDetach {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 1, Checks.MAX_PASID, "pasid");
        Checks.step(atNs, location);
    }
}
