package dev.iommulab.lab.scenario;

/**
 * Step {@code sva-bind}: {@code iommu_sva_bind_device()} of the device to the process's mm.
 *
 * @param device declared device name
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record SvaBind(String device, String process, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public SvaBind {
        Checks.name(device, "device");
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
