package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The launcher's training workload: a run in both formats, silently. */
class CdsTrainingTest {

    @Test
    void train_quickstart_runsInBothFormatsAndPasses() {
        int[] statuses = CdsTraining.train(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml").toString());

        assertThat(statuses).containsExactly(0, 0);
    }

    @Test
    void main_quickstart_printsNothing() {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(capture);
            CdsTraining.main(new String[] {ScenarioFiles.SCENARIOS.resolve("quickstart.yaml").toString()});
        } finally {
            System.setOut(out);
            System.setErr(err);
        }

        assertThat(printed.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
