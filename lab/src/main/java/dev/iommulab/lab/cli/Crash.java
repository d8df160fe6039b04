package dev.iommulab.lab.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An internal error of the lab — an exception or error no input should cause: one line on stderr, never confused
 * with a failed expectation (exit {@link #EXIT}), and its stack trace in a new temporary file the line names.
 */
final class Crash {

    /** The exit status of an internal error. */
    static final int EXIT = 3;

    private Crash() {
    }

    /** Prints {@link #line} for {@code failure} and returns {@link #EXIT}. */
    static int report(PrintWriter err, Throwable failure) {
        err.println(line(failure, null));
        err.flush();
        return EXIT;
    }

    /**
     * {@code iommu-lab: internal error: <exception>: <message> (stack trace in <file>)}, on one line; with
     * {@code run}, {@code internal error (<run>): ...} names the run of several that failed.
     */
    static String line(Throwable failure, String run) {
        String what = failure.toString().replaceAll("\\s*\\R\\s*", " ");
        return "iommu-lab: internal error" + (run == null ? "" : " (" + run + ")") + ": " + what + " ("
                + saveStackTrace(failure) + ")";
    }

    private static String saveStackTrace(Throwable failure) {
        StringWriter trace = new StringWriter();
        failure.printStackTrace(new PrintWriter(trace, true));
        try {
            Path file = Files.createTempFile("iommu-lab-", ".stacktrace");
            Files.writeString(file, trace.toString(), StandardCharsets.UTF_8);
            return "stack trace in " + file;
        } catch (IOException | RuntimeException e) {
            return "stack trace not saved: " + e;
        }
    }
}
