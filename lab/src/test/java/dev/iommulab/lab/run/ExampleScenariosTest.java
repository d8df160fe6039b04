package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example scenario shipped in {@code scenarios/} runs and passes its own expectations. */
class ExampleScenariosTest {

    static Stream<Path> examples() throws IOException {
        try (Stream<Path> files = Files.list(ScenarioFiles.SCENARIOS)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("examples")
    void run_exampleScenario_passes(Path file) throws Exception {
        RunResult r = new ScenarioRunner().run(new ScenarioLoader().load(file));

        assertThat(r.expectations()).isNotEmpty();
        assertThat(r.outcome()).as(new dev.iommulab.lab.report.TextReporter().render(r)).isEqualTo("pass");
    }
}
