package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.report.JsonReporter;
import dev.iommulab.lab.report.TextReporter;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Same scenario and seed, same output byte for byte (DESIGN.md §2). */
class DeterminismTest {

    private String json(List<String> overrides) throws Exception {
        Scenario s = new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"), overrides);
        return new JsonReporter().render(new ScenarioRunner().run(s));
    }

    @Test
    void run_sameSeedTwice_identicalJsonAndText() throws Exception {
        String first = json(List.of());
        String second = json(List.of());

        assertThat(second).isEqualTo(first);
        Scenario s = new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"));
        assertThat(new TextReporter().render(new ScenarioRunner().run(s)))
                .isEqualTo(new TextReporter().render(new ScenarioRunner().run(s)));
    }

    /** The seed drives the bytes the device writes, so another seed changes nothing but the data. */
    @Test
    void run_otherSeed_sameResponsesStillPass() throws Exception {
        String other = json(List.of("seed=99"));

        assertThat(other).contains("\"seed\" : 99").contains("\"outcome\" : \"pass\"");
    }
}
