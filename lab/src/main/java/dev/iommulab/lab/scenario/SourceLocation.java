package dev.iommulab.lab.scenario;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A position in a scenario file, 1-based. Line and column 0 mean "somewhere in the file" (used for
 * problems that concern the file as a whole, or for model objects built in Java rather than loaded).
 *
 * @param file   the scenario file, as given to the loader
 * @param line   1-based line, or 0 when unknown
 * @param column 1-based column, or 0 when unknown
 */
public record SourceLocation(Path file, int line, int column) {

    /** Validates the location. */
    public SourceLocation {
        Objects.requireNonNull(file, "file");
        if (line < 0 || column < 0) {
            throw new IllegalArgumentException("line and column must be >= 0: " + line + ":" + column);
        }
    }

    /** A location that names only the file (line and column 0). */
    public static SourceLocation unknown(Path file) {
        return new SourceLocation(file, 0, 0);
    }

    /** {@code file:line:column}, or just {@code file} when the position is unknown. */
    @Override
    public String toString() {
        return line == 0 ? file.toString() : file + ":" + line + ":" + column;
    }
}
