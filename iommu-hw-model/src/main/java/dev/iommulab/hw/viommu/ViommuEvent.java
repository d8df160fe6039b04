package dev.iommulab.hw.viommu;

import java.util.Objects;

/**
 * What became of one fault the device detected: delivered in an event buffer ({@code delayNs} after the fault when
 * the device had to wait for a buffer), or dropped.
 *
 * @param atNs      when the access faulted
 * @param delivered whether the record reached an event buffer
 * @param delayNs   from the fault to the record's delivery (0 when a buffer was there; 0 when dropped)
 */
public record ViommuEvent(long atNs, ViommuFault fault, boolean delivered, long delayNs) {

    public ViommuEvent {
        Objects.requireNonNull(fault, "fault");
        if (delayNs < 0 || (!delivered && delayNs != 0)) {
            throw new IllegalArgumentException("delay " + delayNs + " of an event "
                    + (delivered ? "delivered" : "dropped"));
        }
    }
}
