package dev.iommulab.lab.cli;

import java.io.PrintWriter;
import java.io.Writer;

/**
 * The workload the {@code iommu-lab} launcher records its class-data-sharing archive from (JDK AppCDS,
 * {@code -XX:ArchiveClassesAtExit}): the classes a small run loads — picocli's model, the YAML loader, Guice and
 * the layers, both reports — are those the archive then serves ready-made to every later run. It runs one
 * scenario file the ways a user does ({@code validate}, {@code run}, {@code run --format json}) and prints
 * nothing: the launcher runs it once after a build, never instead of the user's command.
 */
public final class CdsTraining {

    private CdsTraining() {
    }

    /**
     * Runs {@code args[0]} (a scenario file) as {@code validate}, {@code run} and {@code run --format json},
     * throwing their output away.
     *
     * @return the exit statuses of the three commands, in that order (the launcher ignores them)
     */
    static int[] train(String file) {
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        return new int[] {IommuLab.execute(none, none, "validate", file), IommuLab.execute(none, none, "run", file),
            IommuLab.execute(none, none, "run", file, "--format", "json")};
    }

    public static void main(String[] args) {
        if (args.length == 1) {
            train(args[0]);
        }
    }
}
