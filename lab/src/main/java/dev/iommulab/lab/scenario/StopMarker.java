package dev.iommulab.lab.scenario;

/**
 * Step {@code stop-marker}: the endpoint sends a PASID Stop Marker for exactly one of {@code pasid} or {@code process}.
 *
 * @param device declared device name
 * @param pasid explicit PASID, or {@code null}
 * @param process declared process whose PASID is used, or {@code null}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record StopMarker(String device, Integer pasid, String process, Long atNs, SourceLocation location)
        implements Step, DeviceRef, ProcessRef {

    /** Validates the fields. */
    public StopMarker {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        if ((pasid == null) == (process == null)) {
            throw new IllegalArgumentException("stop-marker takes exactly one of pasid or process");
        }
        Checks.step(atNs, location);
    }
}
