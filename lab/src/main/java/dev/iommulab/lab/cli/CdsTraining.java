package dev.iommulab.lab.cli;

import java.io.PrintWriter;
import java.io.Writer;

/**
 * The workload the {@code iommu-lab} launcher records its class-data-sharing archive from (JDK AppCDS,
 * {@code -XX:ArchiveClassesAtExit}): the classes a small run loads — the YAML loader, Guice, the layers, both reports;
 * not picocli's, whose Java 5 class files CDS cannot hold — are those the archive then serves ready-made. It runs one
 * scenario file as {@code run} and {@code run --format json} (which load everything {@code validate} does) and
 * prints nothing: the launcher runs it once after a build, in a JVM of its own, never instead of the user's command.
 */
public final class CdsTraining {

    private CdsTraining() {
    }

    /**
     * Runs {@code file} (a scenario) as {@code run} and {@code run --format json}, throwing their output away.
     *
     * @return the exit statuses of the two commands, in that order (the launcher ignores them)
     */
    static int[] train(String file) {
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        return new int[] {IommuLab.execute(none, none, "run", file),
            IommuLab.execute(none, none, "run", file, "--format", "json")};
    }

    public static void main(String[] args) {
        if (args.length == 1) {
            train(args[0]);
        }
    }
}
