package dev.iommulab.lab.scenario;

/**
 * Step {@code flr}: Function Level Reset of the endpoint.
 *
 * @param device declared device name
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Flr(String device, Long atNs, SourceLocation location) implements Step, DeviceRef {

    /** Validates the fields. */
    public Flr {
        Checks.name(device, "device");
        Checks.step(atNs, location);
    }
}
