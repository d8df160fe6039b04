package dev.iommulab.lab.scenario;

/**
 * Step {@code vfio-bind}: the process's user-space driver binds the device to its iommufd (VFIO_DEVICE_BIND_IOMMUFD,
 * iommufd_device_bind()); the process's first bind also allocates its IOAS and its fault queue.
 *
 * @param device declared device name
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record VfioBind(String device, String process, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public VfioBind {
        Checks.name(device, "device");
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
