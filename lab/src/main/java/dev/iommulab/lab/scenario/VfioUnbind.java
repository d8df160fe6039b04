package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-unbind}: the VFIO device is unbound from the iommufd it is bound to (every PASID, then the RID,
 * detached; the HWPTs the process allocated for it destroyed).
 *
 * @param device declared device name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioUnbind(String device, Long atNs, SourceLocation location) implements Step, DeviceRef {

    /** Validates the fields. */
    public VfioUnbind {
        Checks.name(device, "device");
        Checks.step(atNs, location);
    }
}
