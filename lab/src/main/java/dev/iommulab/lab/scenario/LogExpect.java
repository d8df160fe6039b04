package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * Expectation {@code log}: some kernel log line contains the text.
 *
 * @param contains text to find, not empty
 * @param location where the expectation is written
 */
public record LogExpect(String contains, SourceLocation location) implements Expectation {

    /** Validates the fields. */
    public LogExpect {
        if (contains == null || contains.isEmpty()) {
            throw new IllegalArgumentException("log contains must not be empty");
        }
        Objects.requireNonNull(location, "location");
    }

    @Override
    public String describe() {
        return "log contains \"" + contains + "\"";
    }
}
