package dev.iommulab.lab.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.Scenario;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, point 5, at the command: big values are run exactly (exit 0/1) or refused (exit 2, at the key's line and
 * column or its {@code --set}); an internal error exits 3 with one line on stderr and its stack trace in a file, and
 * {@code compare} reports the run that crashed as a row with outcome {@code error}.
 */
class BigValuesCliTest {

    private static final Pattern CRASH = Pattern.compile(
            "iommu-lab: internal error(?: \\(([^)]*)\\))?: (.*) \\(stack trace in (.+)\\)");

    @TempDir
    Path dir;

    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        return IommuLab.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    }

    private int run(IommuLab.Runs runs, String... args) {
        return IommuLab.execute(new PrintWriter(out, true), new PrintWriter(err, true), runs, args);
    }

    private static String scenario(String name) {
        return ScenarioFiles.SCENARIOS.resolve(name).toString();
    }

    /** The example: cut to 8 KiB it passed with exit 0. */
    @Test
    void run_dmaOfFourGibPlus8Kib_runsTheWholeSizeAndExitsOne() {
        int status = run("run", scenario("quickstart.yaml"), "--set", "steps.1.dma.size=4194312KiB");

        assertThat(status).isEqualTo(1);
        assertThat(out.toString()).contains("acc0 write 0x7f0000000000+4294975488 PASID 1: invalid")
                .contains("at 0x7f0000010000").contains("Outcome: FAIL");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void validate_atOfLongMax_exitsTwoAtItsLineColumnAndKey() {
        Path file = ScenarioFiles.write(dir, "at.yaml", ScenarioFiles.boundAccelerator("vtd")
                + "  - run: idle\n    at: 9223372036854775807\n");

        assertThat(run("validate", file.toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith(file + ":13:9: steps.1.at: at must be at most 2^62 ns");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void run_runForOfLongMax_exitsTwoAtItsLineColumnAndKey() {
        Path file = ScenarioFiles.write(dir, "for.yaml", ScenarioFiles.boundAccelerator("vtd")
                + "  - run: { for: 9223372036854775807 }\n");

        assertThat(run("run", file.toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith(file + ":12:17: steps.1.run.for: for must be at most 2^62 ns");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void validate_flushTimeoutOfLongMaxInFile_exitsTwoAtItsLineColumnAndKey() {
        Path file = ScenarioFiles.write(dir, "fq.yaml", """
                name: fq
                hardware: { model: vtd }
                policies:
                  dma.flush.timeout: 9223372036854775807
                devices:
                  - { name: nic0, bdf: "00:04.0", profile: nic }
                """);

        assertThat(run("validate", file.toString())).isEqualTo(2);
        assertThat(err.toString()).startsWith(file + ":4:22: policies.dma.flush.timeout: expected a positive time")
                .contains("at most 2^40 ns");
    }

    @Test
    void run_flushTimeoutOfLongMaxBySet_exitsTwoAtTheOverride() {
        int status = run("run", scenario("dma-api-lazy.yaml"), "--set",
                "policies.dma.flush.timeout=9223372036854775807");

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).startsWith("<override policies.dma.flush.timeout=9223372036854775807>: expected");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void run_flushBatchBeyondTheKernelsLargest_exitsTwo() {
        int status = run("run", scenario("dma-api-lazy.yaml"), "--set", "policies.dma.flush.batch=1073741824");

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("policies.dma.flush.batch=1073741824").contains("2 to 32768");
    }

    @Test
    void run_internalError_exitsThreeWithOneLineAndTheStackTraceInAFile() throws Exception {
        int status = run((s, journey) -> {
            throw new IllegalStateException("injected\nfailure");
        }, "run", scenario("quickstart.yaml"));

        assertThat(status).isEqualTo(3);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString().lines()).singleElement().satisfies(line -> {
            Matcher m = CRASH.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            assertThat(m.group(2)).isEqualTo("java.lang.IllegalStateException: injected failure");
            Path trace = Path.of(m.group(3));
            assertThat(Files.readString(trace)).contains("IllegalStateException: injected", "\tat ");
            Files.delete(trace);
        });
    }

    @Test
    void run_errorBeyondException_exitsThree() throws Exception {
        int status = run((s, journey) -> {
            throw new StackOverflowError("injected");
        }, "run", scenario("quickstart.yaml"));

        assertThat(status).isEqualTo(3);
        Matcher m = CRASH.matcher(err.toString().strip());
        assertThat(m.matches()).isTrue();
        assertThat(m.group(2)).isEqualTo("java.lang.StackOverflowError: injected");
        Files.delete(Path.of(m.group(3)));
    }

    /** The run of seed 2 crashes; seeds 1 and 3 still print their rows. */
    @Test
    void compare_oneRunCrashes_errorRowOthersPrintExitThree() throws Exception {
        IommuLab.Runs crashOnSeed2 = (s, journey) -> {
            if (s.seed() == 2) {
                throw new IllegalStateException("injected");
            }
            return IommuLab.SCENARIO_RUNNER.run(s, journey);
        };

        int status = run(crashOnSeed2, "compare", scenario("quickstart.yaml"), "--vary", "seed=1,2,3");

        assertThat(status).isEqualTo(3);
        assertThat(out.toString().lines().filter(l -> l.matches("[123] .*")))
                .satisfiesExactly(l -> assertThat(l).startsWith("1 ").contains("pass"),
                        l -> assertThat(l).startsWith("2 ").contains("error"),
                        l -> assertThat(l).startsWith("3 ").contains("pass"));
        Matcher m = CRASH.matcher(err.toString().strip());
        assertThat(m.matches()).as(err.toString()).isTrue();
        assertThat(m.group(1)).isEqualTo("seed=2");
        assertThat(m.group(2)).isEqualTo("java.lang.IllegalStateException: injected");
        Files.delete(Path.of(m.group(3)));
    }

    @Test
    void compare_oneRunCrashesCsv_rowOutcomeError() throws Exception {
        IommuLab.Runs crashOnSeed2 = (s, journey) -> {
            if (s.seed() == 2) {
                throw new IllegalStateException("injected");
            }
            return IommuLab.SCENARIO_RUNNER.run(s, journey);
        };

        int status = run(crashOnSeed2, "compare", scenario("quickstart.yaml"), "--vary", "seed=1,2", "--format",
                "csv");

        assertThat(status).isEqualTo(3);
        assertThat(out.toString().lines().skip(1)).satisfiesExactly(
                l -> assertThat(l).startsWith("seed,1,sva-first-touch,1,pass,"),
                l -> assertThat(l).startsWith("seed,2,sva-first-touch,2,error,"));
        Matcher m = CRASH.matcher(err.toString().strip());
        assertThat(m.matches()).isTrue();
        Files.delete(Path.of(m.group(3)));
    }

    @Test
    void compare_aRunFailsNoneCrashes_exitsOne() {
        IommuLab.Runs runs = IommuLab.SCENARIO_RUNNER;

        int status = run(runs, "compare", scenario("quickstart.yaml"), "--vary", "steps.1.dma.size=8KiB,4GiB");

        assertThat(status).isEqualTo(1);
        assertThat(err.toString()).isEmpty();
    }

    /** A scenario built for the seam: the runner sees the scenario the command loaded. */
    @Test
    void run_runnerSeam_getsTheLoadedScenario() {
        Scenario[] seen = new Scenario[1];
        run((s, journey) -> {
            seen[0] = s;
            return IommuLab.SCENARIO_RUNNER.run(s, journey);
        }, "run", scenario("quickstart.yaml"), "--seed", "9");

        assertThat(seen[0].seed()).isEqualTo(9);
    }
}
