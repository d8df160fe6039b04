package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;

/**
 * Expectation {@code page-response}: page responses the device received, filtered by the given fields.
 *
 * @param device   declared device name
 * @param code     PCIe response code, one of {@link #CODES}
 * @param origin   who answered, one of {@link #ORIGINS}, or {@code null} for any
 * @param grpid    page request group index, or {@code null} for any
 * @param pasid    PASID, or {@code null} for any
 * @param count    exact number of matching responses, or {@code null} when not constrained
 * @param location where the expectation is written
 */
public record PageResponseExpect(String device, String code, String origin, Integer grpid, Integer pasid,
                                 Integer count, SourceLocation location) implements Expectation, DeviceRef {

    /** PCIe page response codes. */
    public static final List<String> CODES = List.of("SUCCESS", "INVALID", "FAILURE");
    /** Who sent a page response. */
    public static final List<String> ORIGINS = List.of("sva", "iommufd", "abort", "bad-setup", "remove-device",
            "auto-response", "driver", "hardware", "back-pressure");

    /** Validates the fields. */
    public PageResponseExpect {
        Checks.name(device, "device");
        Checks.oneOf(code, CODES, "code");
        Checks.optionalOneOf(origin, ORIGINS, "origin");
        Checks.optionalRange(grpid, 0, Checks.MAX_GRPID, "grpid");
        Checks.optionalRange(pasid, 0, Checks.MAX_PASID, "pasid");
        Checks.optionalRange(count, 0, Integer.MAX_VALUE, "count");
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "page-response " + device + " " + code + Checks.opt("origin", origin)
                + Checks.opt("grpid", grpid) + Checks.opt("pasid", pasid) + Checks.times(count);
    }
}
