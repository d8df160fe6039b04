package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Behaviour pins: {@code run --format json} and the text report of every shipped scenario, byte for byte
 * against {@code src/test/resources/golden/}. A refactor changes none of them; a change on purpose rewrites
 * the file ({@code -Dgolden.update=true}) and says why in its commit.
 */
class GoldenScenariosTest {

    private static final Path GOLDEN = Path.of("src", "test", "resources", "golden");
    private static final boolean UPDATE = Boolean.getBoolean("golden.update");

    static Stream<Path> shipped() throws IOException {
        try (Stream<Path> files = Files.list(ScenarioFiles.SCENARIOS)) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("shipped")
    void runJson_shippedScenario_matchesGoldenFile(Path scenario) throws IOException {
        check(scenario, ".json", "run", scenario.toString(), "--format", "json");
    }

    @ParameterizedTest
    @MethodSource("shipped")
    void runText_shippedScenario_matchesGoldenFile(Path scenario) throws IOException {
        check(scenario, ".txt", "run", scenario.toString());
    }

    private static void check(Path scenario, String suffix, String... args) throws IOException {
        StringWriter out = new StringWriter();
        IommuLab.execute(new PrintWriter(out, true), new PrintWriter(new StringWriter(), true), args);
        String name = scenario.getFileName().toString().replace(".yaml", suffix);
        Path golden = GOLDEN.resolve(name);
        if (UPDATE) {
            Files.writeString(golden, out.toString(), StandardCharsets.UTF_8);
        }
        assertThat(out.toString()).as("%s against %s", scenario, golden)
                .isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
    }
}
