package dev.iommulab.lab.scenario;

/**
 * Step {@code remove-device}: {@code iopf_queue_remove_device()} for the device.
 *
 * @param device declared device name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record RemoveDevice(String device, Long atNs, SourceLocation location) implements Step, DeviceRef {

    /** Validates the fields. */
    public RemoveDevice {
        Checks.name(device, "device");
        Checks.step(atNs, location);
    }
}
