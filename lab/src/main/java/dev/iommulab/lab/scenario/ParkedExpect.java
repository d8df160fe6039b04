package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code parked}: how many page requests of a device io-pgfault holds parked on its partial list
 * (non-last requests waiting for their LPIG, report_partial_fault()), optionally only those of one PASID, at the
 * end of the run or when step {@code afterStep} (1-based, in the order of {@code steps}) was over.
 *
 * @param device    declared device name
 * @param pasid     only requests with this PASID, or {@code null} for all
 * @param count     expected number
 * @param afterStep 1-based step number, or {@code null} for the end of the run
 * @param location  where the expectation is written
 */
public record ParkedExpect(String device, Integer pasid, int count, Integer afterStep, SourceLocation location)
        implements Expectation {

    /** Validates the fields. */
    public ParkedExpect {
        Checks.name(device, "device");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        Checks.range(count, 0, Integer.MAX_VALUE, "count");
        Checks.optionalRange(afterStep, 1, Integer.MAX_VALUE, "after-step");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "parked " + device + Checks.opt("pasid", pasid) + " x" + count
                + (afterStep == null ? " at the end" : " after step " + afterStep);
    }
}
