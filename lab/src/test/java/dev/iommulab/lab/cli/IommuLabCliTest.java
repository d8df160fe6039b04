package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.iommulab.lab.ScenarioFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's contract: output formats and exit status 0 / 1 / 2 (SCENARIO-FORMAT.md). */
class IommuLabCliTest {

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return IommuLab.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private String quickstart() {
        return ScenarioFiles.SCENARIOS.resolve("quickstart.yaml").toString();
    }

    @Test
    void run_quickstartJson_twoSvaSuccessesAndDmaOk() throws Exception {
        int status = run("run", quickstart(), "--format", "json");

        assertThat(status).isZero();
        JsonNode json = new ObjectMapper().readTree(out.toString());
        assertThat(json.get("outcome").asText()).isEqualTo("pass");
        assertThat(json.get("pageResponses")).hasSize(2);
        json.get("pageResponses").forEach(p -> {
            assertThat(p.get("code").asText()).isEqualTo("SUCCESS");
            assertThat(p.get("origin").asText()).isEqualTo("sva");
            assertThat(p.get("wireCode").asText()).isEqualTo("0x0");
        });
        assertThat(json.get("dma")).singleElement().satisfies(d -> {
            assertThat(d.get("status").asText()).isEqualTo("ok");
            assertThat(d.get("memoryMatches").asBoolean()).isTrue();
        });
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void run_quickstartText_tellsJourneyThroughEveryLayer() {
        int status = run("run", quickstart());

        assertThat(status).isZero();
        assertThat(out.toString()).contains("DEVICE", "IOMMU", "DRIVER", "IOPF", "SVA", "prq_event_thread",
                "iommu_report_device_fault", "iommu_sva_handle_mm", "intel_iommu_page_response",
                "receives PRG response", "Outcome: PASS");
    }

    @Test
    void run_expectationDoesNotHold_exitsOne() {
        int status = run("run", quickstart(), "--set", "expect.0.page-response.count=3");

        assertThat(status).isEqualTo(1);
        assertThat(out.toString()).contains("[FAIL] page-response acc0 SUCCESS", "(seen 2)", "Outcome: FAIL");
    }

    @Test
    void run_unknownKey_exitsTwoNamingFileLineColumnAndKey() {
        Path file = ScenarioFiles.write(dir, "bad.yaml", ScenarioFiles.svaScenario(
                "{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, acces: write }"));

        int status = run("run", file.toString());

        assertThat(status).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains(file + ":18:").contains("acces");
    }

    @Test
    void run_undefinedDevice_exitsTwoNamingTheReference() {
        Path file = ScenarioFiles.write(dir, "bad.yaml", ScenarioFiles.svaScenario(
                "{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: nic9, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }"));

        int status = run("run", file.toString());

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains(file + ":18:").contains("nic9");
    }

    @Test
    void run_badNumber_exitsTwoNamingTheValue() {
        Path file = ScenarioFiles.write(dir, "bad.yaml", ScenarioFiles.svaScenario(
                "{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 8KQ, access: write }"));

        int status = run("run", file.toString());

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains(file + ":18:").contains("size").contains("8KQ");
    }

    @Test
    void run_unknownHardwareOption_exitsTwoNamingTheKey() {
        Path file = ScenarioFiles.write(dir, "opt.yaml", ScenarioFiles.svaScenario(
                "{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }"));

        assertThat(run("run", file.toString(), "--set", "hardware.options.prq-depth=4")).isEqualTo(2);
        assertThat(err.toString()).contains("hardware.options.prq-depth").contains("unknown vtd option");
    }

    @Test
    void validate_goodFile_exitsZero() {
        assertThat(run("validate", quickstart())).isZero();
        assertThat(out.toString()).contains("valid scenario 'sva-first-touch'");
    }
}
