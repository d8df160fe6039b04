package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code device}: the endpoint's PRI state at the end of the run. At least one of the two
 * states must be given.
 *
 * @param name               declared device name
 * @param priEnabled         expected PRI Enable bit, or {@code null} for any
 * @param priResponseFailure expected PRI Response Failure bit, or {@code null} for any
 * @param location           where the expectation is written
 */
public record DeviceExpect(String name, Boolean priEnabled, Boolean priResponseFailure, SourceLocation location)
        implements Expectation {

    /** Validates the fields. */
    public DeviceExpect {
        Checks.name(name, "device");
        if (priEnabled == null && priResponseFailure == null) {
            throw new IllegalArgumentException("device expectation needs pri-enabled or pri-response-failure");
        }
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "device " + name + Checks.opt("pri-enabled", priEnabled)
                + Checks.opt("pri-response-failure", priResponseFailure);
    }
}
