package dev.iommulab.lab.scenario;

import java.util.Objects;

/**
 * One problem found while loading a scenario.
 *
 * <p>For a problem in the file, {@code location} is where it was found and {@code key} is the dotted path
 * of the offending key (the same syntax as {@code --set}, e.g. {@code steps.1.dma.size}); it formats as
 * {@code file:line:column: key: message}. For a problem in a {@code --set} override (or in a value an
 * override supplied), {@code location} is {@code null} and {@code key} is {@code <override KEY=VALUE>};
 * it formats as {@code <override KEY=VALUE>: message}.
 *
 * @param location where the problem is, or {@code null} for an override problem
 * @param key      dotted path of the offending key ({@code ""} for the file as a whole), or the override
 * @param message  what is wrong, in plain words
 */
public record ScenarioProblem(SourceLocation location, String key, String message) {

    /** Validates the problem. */
    public ScenarioProblem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(message, "message");
    }

    /** A problem in the override {@code KEY=VALUE} given on the command line. */
    public static ScenarioProblem override(String override, String message) {
        return new ScenarioProblem(null, "<override " + override + ">", message);
    }

    /** Whether this problem is about a {@code --set} override rather than a place in the file. */
    public boolean fromOverride() {
        return location == null;
    }

    @Override
    public String toString() {
        if (location == null) {
            return key + ": " + message;
        }
        return location + (key.isEmpty() ? "" : ": " + key) + ": " + message;
    }
}
