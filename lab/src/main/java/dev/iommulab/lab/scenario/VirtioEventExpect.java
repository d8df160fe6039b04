package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;

/**
 * Expectation {@code virtio-event}: fault events of the virtio-iommu for a device, by reason, delivered to the
 * driver or dropped.
 *
 * @param device    declared device name (a guest's, with {@code guest:})
 * @param reason    one of {@link #REASONS}
 * @param delivered true: only events that reached an event buffer; false: only dropped ones; null: both
 * @param count     exact number, or {@code null} for "at least one"
 * @param location  where the expectation is written
 */
public record VirtioEventExpect(String device, String reason, Boolean delivered, Integer count,
                                SourceLocation location) implements Expectation, DeviceRef {

    /** The fault reasons of a virtio-iommu event. */
    public static final List<String> REASONS = List.of("UNKNOWN", "DOMAIN", "MAPPING");

    public VirtioEventExpect {
        Checks.name(device, "device");
        Checks.oneOf(reason, REASONS, "reason");
        if (count != null && count < 0) {
            throw new IllegalArgumentException("count must be >= 0: " + count);
        }
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "virtio-event " + device + " " + reason + (delivered == null ? "" : delivered ? " delivered"
                : " dropped") + (count == null ? "" : " x" + count);
    }
}
