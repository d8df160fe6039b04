package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code fault-record}: fault records the IOMMU produced for the device.
 *
 * @param device   declared device name
 * @param reason   the hardware model's common reason name, e.g. {@code TRANSLATION_NOT_PRESENT}
 * @param recorded whether the record was kept ({@code false}: lost or suppressed), or {@code null} for any
 * @param count    exact number of matching records, or {@code null} when not constrained
 * @param location where the expectation is written
 */
public record FaultRecordExpect(String device, String reason, Boolean recorded, Integer count,
                                SourceLocation location) implements Expectation, DeviceRef {

    /** Validates the fields; the reason must look like an enum constant name. */
    public FaultRecordExpect {
        Checks.name(device, "device");
        if (!Checks.isReasonName(reason)) {
            throw new IllegalArgumentException("invalid reason '" + reason
                    + "'; expected an upper-case reason name such as TRANSLATION_NOT_PRESENT");
        }
        Checks.optionalRange(count, 0, Integer.MAX_VALUE, "count");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "fault-record " + device + " " + reason + Checks.opt("recorded", recorded)
                + Checks.times(count);
    }
}
