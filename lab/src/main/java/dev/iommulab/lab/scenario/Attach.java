package dev.iommulab.lab.scenario;

import java.util.List;

/**
 * Step {@code attach}: attach the device's RID to a new domain of the given type.
 *
 * @param device declared device name
 * @param domain one of {@link #DOMAINS}
 * @param atNs simulated time to run at, or {@code null}
 * @param location where the step is written
 */
public record Attach(String device, String domain, Long atNs, SourceLocation location)
        implements Step, DeviceRef {

    /** Domain types a device can be attached to. */
    public static final List<String> DOMAINS = List.of("dma", "identity", "blocked", "unmanaged");

    /** Validates the fields. */
    public Attach {
        Checks.name(device, "device");
        Checks.oneOf(domain, DOMAINS, "domain");
        Checks.step(atNs, location);
    }
}
