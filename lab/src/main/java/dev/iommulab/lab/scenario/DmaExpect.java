package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;

/**
 * Expectation {@code dma}: DMA outcomes of the device with the given status.
 *
 * @param device   declared device name
 * @param status   one of {@link #STATUSES}
 * @param count    exact number of DMAs with that status, or {@code null} when not constrained
 * @param location where the expectation is written
 */
public record DmaExpect(String device, String status, Integer count, SourceLocation location)
        implements Expectation, DeviceRef {

    /** DMA outcomes. */
    public static final List<String> STATUSES = List.of("ok", "ur", "ca", "dropped", "invalid", "pri-failed", "retry-limit",
            "device-error", "aborted", "pending");

    /** Validates the fields. */
    public DmaExpect {
        Checks.name(device, "device");
        Checks.oneOf(status, STATUSES, "status");
        Checks.optionalRange(count, 0, Integer.MAX_VALUE, "count");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "dma " + device + " " + status + Checks.times(count);
    }
}
