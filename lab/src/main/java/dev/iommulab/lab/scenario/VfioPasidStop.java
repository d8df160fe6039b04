package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-pasid-stop}: the user-space driver stops the device's use of a PASID before detaching it
 * (UserspaceDriver.stopPasid() with the endpoint's PASID stop): the device retires its work and sends a Stop Marker,
 * the client serves its fault file once more, then the PASID is detached and its HWPT destroyed.
 *
 * @param device declared device name
 * @param pasid the PASID, 1..2^20-1
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioPasidStop(String device, int pasid, Long atNs, SourceLocation location) implements Step, DeviceRef {

    /** Validates the fields. */
    public VfioPasidStop {
        Checks.name(device, "device");
        Checks.range(pasid, 1, Checks.MAX_PASID, "pasid");
        Checks.step(atNs, location);
    }
}
