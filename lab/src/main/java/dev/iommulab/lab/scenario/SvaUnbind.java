package dev.iommulab.lab.scenario;

/**
 * Step {@code sva-unbind}: {@code iommu_sva_unbind_device()} of a previous bind.
 *
 * @param device declared device name
 * @param process declared process name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record SvaUnbind(String device, String process, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public SvaUnbind {
        Checks.name(device, "device");
        Checks.name(process, "process");
        Checks.step(atNs, location);
    }
}
