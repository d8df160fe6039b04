package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iommulab.lab.ScenarioFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code iommu-lab compare}: one row per value, three formats, exit status as for run. */
class CompareCliTest {

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return IommuLab.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private static String scenario(String name) {
        return ScenarioFiles.SCENARIOS.resolve(name).toString();
    }

    /**
     * Issue 4's table: err_abort answering FAILURE disables the device's PRI (RF, every later work item
     * pri-failed); INVALID fails only the work item whose group could not be allocated.
     */
    @Test
    void compare_abortFailureVsInvalid_tableShowsPriDisabledOnlyUnderFailure() {
        int status = run("compare", scenario("abort-failure-vs-invalid.yaml"), "--vary",
                "policies.iopf.abort-response=FAILURE,INVALID");

        assertThat(status).isEqualTo(1);
        assertThat(out.toString().lines().filter(l -> l.startsWith("FAILURE ")).findFirst().orElseThrow())
                .contains("pass", "FAILURE/abort x1", "acc0 PRI on RF 1", "pri-failed x2");
        assertThat(out.toString().lines().filter(l -> l.startsWith("INVALID ")).findFirst().orElseThrow())
                .contains("fail", "INVALID/abort x1", "SUCCESS/sva x1", "acc0 PRI on RF 0", "invalid x1, ok x1");
    }

    @Test
    void compare_quickstartTwoSeeds_oneTextRowPerSeed() {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "seed=1,2");

        assertThat(status).isZero();
        assertThat(out.toString().lines().filter(l -> l.contains("SUCCESS/sva x2, ") || l.contains("SUCCESS/sva x2 ")))
                .hasSize(2);
        assertThat(out.toString()).contains("seed", "outcome", "page responses", "device PRI", "DMA", "latency p50",
                "latency p99", "acc0 PRI on RF 0", "ok x1");
        assertThat(out.toString().lines().filter(l -> l.startsWith("1 ") || l.startsWith("2 "))).hasSize(2);
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void compare_jsonFormat_runsCarryHeadlineFigures() throws Exception {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "seed=1,2", "--format", "json");

        assertThat(status).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("key").asText()).isEqualTo("seed");
        assertThat(json.get("runs")).hasSize(2);
        JsonNode first = json.get("runs").get(0);
        assertThat(first.get("value").asText()).isEqualTo("1");
        assertThat(first.get("seed").asLong()).isEqualTo(1);
        assertThat(first.get("outcome").asText()).isEqualTo("pass");
        assertThat(first.get("responses").get("SUCCESS/sva").asLong()).isEqualTo(2);
        assertThat(first.get("dma").get("ok").asLong()).isEqualTo(1);
        assertThat(first.get("devices").get(0).get("priEnabled").asBoolean()).isTrue();
        assertThat(first.get("latencySamples").asLong()).isEqualTo(1);
        assertThat(first.get("p50Ns").asLong()).isPositive();
        assertThat(first.get("p99Ns").asLong()).isGreaterThanOrEqualTo(first.get("p50Ns").asLong());
    }

    @Test
    void compare_csvFormat_headerAndOneLinePerRun() {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "seed=1,2,3", "--format", "csv");

        assertThat(status).isZero();
        assertThat(out.toString().lines().toList()).hasSize(4).first().isEqualTo(
                "key,value,scenario,seed,outcome,response:SUCCESS/sva,dma:ok,pri:acc0,rf:acc0,p50Ns,p99Ns,latencySamples");
        assertThat(out.toString().lines().skip(1)).allMatch(l -> l.matches("seed,[123],sva-first-touch,[123],pass,2,1,"
                + "enabled,0,\\d+,\\d+,1"));
    }

    /** A read-only VMA makes the write fail: that run fails its expectations, so compare exits 1. */
    @Test
    void compare_oneValueFailsExpectations_exit1WithBothRows() {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "processes.0.vmas.0.prot=rw,r");

        assertThat(status).isEqualTo(1);
        assertThat(out.toString()).contains("pass", "fail", "INVALID/sva x1", "invalid x1");
    }

    @Test
    void compare_varyWithoutValues_exit2AndRunsNothing() {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "seed=");

        assertThat(status).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("--vary", "seed=");
    }

    @Test
    void compare_secondValueInvalid_exit2NamingKeyAndRunsNothing() {
        int status = run("compare", scenario("quickstart.yaml"), "--vary", "hardware.model=vtd,nope");

        assertThat(status).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("nope");
    }

    @Test
    void compare_missingVary_exit2() {
        int status = run("compare", scenario("quickstart.yaml"));

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("--vary");
    }
}
