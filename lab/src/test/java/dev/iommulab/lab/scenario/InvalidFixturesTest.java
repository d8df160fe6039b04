package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The files in {@code scenarios-invalid/}: each names its one expected problem in its first line,
 * {@code # expect: LINE:COLUMN KEY: MESSAGE-PREFIX}.
 */
class InvalidFixturesTest {

    private static final Pattern EXPECT = Pattern.compile("# expect: (\\d+):(\\d+) (\\S+): (.*)");

    static Stream<Path> fixtures() throws IOException, URISyntaxException {
        Path dir = Path.of(InvalidFixturesTest.class.getResource("/scenarios-invalid").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @Test
    void fixtures_directory_holdsTheInvalidExamples() throws Exception {
        assertThat(fixtures().map(p -> p.getFileName().toString())).contains("unknown-key.yaml",
                "undefined-device.yaml", "bad-number.yaml", "duplicate-device.yaml", "pri-without-ats.yaml");
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void load_invalidFixture_reportsTheProblemItNames(Path file) throws IOException {
        Matcher expect = EXPECT.matcher(Files.readAllLines(file).get(0));
        assertThat(expect.matches()).as("first line of %s names the expected problem", file).isTrue();

        ScenarioException e = catchThrowableOfType(ScenarioException.class, () -> new ScenarioLoader().load(file));

        assertThat(e).as("%s must be invalid", file).isNotNull();
        List<ScenarioProblem> problems = e.problems();
        assertThat(problems).hasSize(1);
        ScenarioProblem p = problems.get(0);
        assertThat(p.location()).isEqualTo(new SourceLocation(file, Integer.parseInt(expect.group(1)),
                Integer.parseInt(expect.group(2))));
        assertThat(p.key()).isEqualTo(expect.group(3));
        assertThat(p.message()).startsWith(expect.group(4));
        assertThat(p.toString()).startsWith(file + ":" + expect.group(1) + ":" + expect.group(2) + ": "
                + expect.group(3) + ": " + expect.group(4));
    }
}
