package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iommulab.lab.ScenarioFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * A large run's text report stays readable: the quickstart's first touch grown to 512 pages prints the first journey
 * steps and list entries in full, then counts, per-device aggregates and how to get the rest; {@code --journey all}
 * prints every step, and the JSON still lists every response.
 */
class LargeRunCliTest {

    private static final int PAGES = 512;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... extra) {
        String size = (PAGES * 4) + "KiB";
        String[] args = {"run", ScenarioFiles.SCENARIOS.resolve("quickstart.yaml").toString(),
                "--set", "processes.0.vmas.0.size=" + size, "--set", "steps.1.dma.size=" + size,
                "--set", "expect.0.page-response.count=" + PAGES};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        return IommuLab.execute(new PrintWriter(out, true), new PrintWriter(err, true), all);
    }

    /** Journey lines: the time, two spaces, the layer. */
    private long journeyLines() {
        return out.toString().lines().filter(l -> l.matches(" *[0-9]+\\.[0-9]{3} us  [A-Z]+ .*")).count();
    }

    @Test
    void run_largeFirstTouchText_firstEntriesThenAggregates() {
        int status = run("--journey", "50");

        assertThat(status).isZero();
        String text = out.toString();
        assertThat(journeyLines()).isEqualTo(50);
        assertThat(text.lines().count()).as("report lines stay bounded").isLessThan(300);
        assertThat(text).containsPattern("\\.\\.\\. and [0-9,]+ more steps \\([0-9,]+ in all\\); --journey all prints"
                + " every step");
        assertThat(text).containsPattern("steps per layer: DEVICE [0-9,]+, IOMMU [0-9,]+, DRIVER [0-9,]+, IOPF [0-9,]+,"
                + " SVA [0-9,]+");
        assertThat(text).contains("... and 412 more page responses (512 in all; --format json lists every one)");
        assertThat(text).containsPattern("acc0: 512 page responses: SUCCESS 512; from sva 512; report to response"
                + " p50 [0-9.]+ us, p90 [0-9.]+ us, p99 [0-9.]+ us, max [0-9.]+ us \\(512 timed\\)");
        assertThat(text).contains("Outcome: PASS");
    }

    @Test
    void run_journeyAll_everyStepPrinted() {
        int status = run("--journey", "all");

        assertThat(status).isZero();
        assertThat(out.toString()).doesNotContain("more steps").contains("Outcome: PASS");
        assertThat(journeyLines()).as("every step of 512 faults").isGreaterThan(PAGES * 10);
    }

    @Test
    void run_largeFirstTouchJson_listsEveryResponse() throws Exception {
        int status = run("--format", "json");

        assertThat(status).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("pageResponses")).hasSize(PAGES);
        assertThat(json.get("pageResponses").get(0).has("latencyNs")).as("latency is not in the JSON").isFalse();
    }

    @Test
    void run_journeyNotANumber_invalidInputExit2() {
        int status = run("--journey", "some");

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("--journey: expected all or a number of steps >= 0, got 'some'");
        assertThat(out.toString()).isEmpty();
    }
}
