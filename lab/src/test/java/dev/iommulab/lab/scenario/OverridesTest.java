package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --set KEY=VALUE} overrides applied by {@link ScenarioLoader#load(Path, List)}. */
class OverridesTest extends ScenarioFileTest {

    @Test
    void load_scalarOverride_replacesValue() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE, "seed=9", "hardware.model=smmuv3");

        assertThat(s.seed()).isEqualTo(9);
        assertThat(s.hardware().model()).isEqualTo("smmuv3");
    }

    @Test
    void load_listIndexOverride_replacesOrAddsItemKey() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE, "devices.0.pri-credits=2", "devices.0.atc-entries=8",
                "steps.1.dma.size=16KiB", "processes.0.vmas.0.prot=r");

        assertThat(s.devices().get(0).priCredits()).isEqualTo(2);
        assertThat(s.devices().get(0).atcEntries()).isEqualTo(8);
        assertThat(((Dma) s.steps().get(1)).size()).isEqualTo(16384);
        assertThat(s.processes().get(0).vmas().get(0).prot()).isEqualTo("r");
    }

    @Test
    void load_policyOverrideWithDottedKey_replacesPolicy() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE, "policies.iopf.abort-response=INVALID",
                "policies.iopf.queue.depth=8");

        assertThat(s.policies()).containsExactly(Map.entry("iopf.abort-response", "INVALID"),
                Map.entry("iopf.queue.depth", "8"));
    }

    @Test
    void load_policyAndOptionOverridesWithoutSections_createThem() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware:
                  model: vtd
                """, "policies.iopf.abort-response=INVALID", "hardware.options.prq-entries=4");

        assertThat(s.policies()).containsExactly(Map.entry("iopf.abort-response", "INVALID"));
        assertThat(s.hardware().options()).containsExactly(Map.entry("prq-entries", 4L));
    }

    @Test
    void load_repeatedOverride_lastWins() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE, "seed=3", "seed=0x10");

        assertThat(s.seed()).isEqualTo(16);
    }

    @Test
    void load_nonexistentPath_reportsOverride() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.CONTRACT_EXAMPLE, "processes.3.name=x",
                "nosuch.key=1", "hardware=1", "seed.x=2", "seed");

        assertThat(problems).extracting(ScenarioProblem::toString).containsExactly(
                "<override processes.3.name=x>: 'processes.3': no item 3 (the list has 1)",
                "<override nosuch.key=1>: 'nosuch' does not exist in the file",
                "<override hardware=1>: 'hardware' is a mapping, not a scalar",
                "<override seed.x=2>: 'seed' is a scalar, not a mapping or list",
                "<override seed>: expected KEY=VALUE");
        assertThat(problems).allMatch(ScenarioProblem::fromOverride);
    }

    @Test
    void load_invalidOverriddenValue_reportsAgainstOverride() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.CONTRACT_EXAMPLE, "seed=abc",
                "devices.0.profile=gpu", "hardware.bogus=1");

        assertThat(problems).extracting(ScenarioProblem::toString).containsExactly(
                "<override seed=abc>: invalid number 'abc'; expected decimal or 0x hex, optionally with KiB, MiB "
                        + "or GiB",
                "<override hardware.bogus=1>: unknown key 'bogus'; allowed: model, options",
                "<override devices.0.profile=gpu>: unknown profile 'gpu'; allowed: accelerator, nic, nvme, generic");
    }

    @Test
    void load_overrideAndFileProblems_listsOverrideProblemsFirst() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd, bogus: 1 }
                """, "devices.0.name=x");

        assertThat(problems).extracting(ScenarioProblem::fromOverride).containsExactly(true, false);
        assertThat(problems.get(0).toString())
                .isEqualTo("<override devices.0.name=x>: 'devices' does not exist in the file");
        assertThat(problems.get(1).key()).isEqualTo("hardware.bogus");
    }

    @Test
    void load_overrideOfListOrMapping_isRejected() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.CONTRACT_EXAMPLE, "devices=none",
                "processes.0.vmas.0=x");

        assertThat(problems).extracting(ScenarioProblem::message).containsExactly(
                "'devices' is a list, not a scalar", "'processes.0.vmas.0' is a mapping, not a scalar");
    }
}
