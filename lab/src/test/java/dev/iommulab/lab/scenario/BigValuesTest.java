package dev.iommulab.lab.scenario;

import static dev.iommulab.lab.scenario.ScenarioFiles.HEAD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 14, point 5: a size, count or time the lab cannot handle exactly is refused at load, at its line, column
 * and key (or at the {@code --set} that gave it); the largest ones it can handle load.
 */
class BigValuesTest extends ScenarioFileTest {

    @Test
    void load_atOfLongMax_refusedAtItsValue() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - run: idle
                    at: 9223372036854775807
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("12:9", "steps.0.at"));
        assertThat(problems.get(0).message()).contains("at must be at most 2^62 ns");
    }

    @Test
    void load_runForOfLongMaxInsideTheStep_refusedAtItsValue() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - run: { for: 9223372036854775807 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("11:17", "steps.0.run.for"));
        assertThat(problems.get(0).message()).contains("for must be at most 2^62 ns");
    }

    @Test
    void load_atOfLongMaxFromSet_refusedAtTheOverride() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - run: { for: 1ms, at: 5 }
                """, "steps.0.run.at=9223372036854775807");

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.fromOverride()).isTrue();
            assertThat(p.toString()).startsWith("<override steps.0.run.at=9223372036854775807>: at must be at most");
        });
    }

    @Test
    void load_latestAtPlusRunForsPast2pow62_refusedAtTheForThatCrossesIt() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - run: { for: 4611686018427387000 }
                  - run: { for: 1000 }
                  - run: { for: 1000 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("12:17", "steps.1.run.for"));
        assertThat(problems.get(0).message()).contains("takes the run past 2^62 ns");
    }

    @Test
    void load_atAfterLongRuns_refusedAtTheAtThatCrossesIt() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - run: { for: 2305843009213693952 }
                  - at: 2305843009213693953
                    run: idle
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("12:9", "steps.1.at"));
    }

    @Test
    void load_latestAtPlusRunForsExactly2pow62_loads() throws Exception {
        Scenario s = files.load(HEAD + """
                steps:
                  - run: { for: 2305843009213693952 }
                  - run: { for: 2305843009213693952 }
                """);

        assertThat(s.steps()).hasSize(2);
    }

    @Test
    void load_dmaWhoseEndPassesLongMax_refusedAtSize() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - dma: { device: acc0, addr: 0x7fffffffffff0000, size: 64KiB, access: read }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("11:58", "steps.0.dma.size"));
        assertThat(problems.get(0).message()).contains("ends beyond 2^63 - 1");
    }

    @Test
    void load_dmaOfSixteenTib_loads() throws Exception {
        Scenario s = files.load(HEAD + """
                steps:
                  - dma: { device: acc0, addr: 0x100000, size: 17179869184KiB, access: write }
                """);

        assertThat(((Dma) s.steps().get(0)).size()).isEqualTo(1L << 44);
    }

    @Test
    void load_pinnedIoasMapBeyondPhysicalMemory_refusedAtSize() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - ioas-map: { process: app, iova: 0, addr: 0x1000, size: 17179869188KiB, prot: rw }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("11:60", "steps.0.ioas-map.size"));
        assertThat(problems.get(0).message()).contains("at most 0x100000000 bytes, the machine's physical memory");
    }

    @Test
    void load_ioasMapOnFaultBeyondPhysicalMemory_loads() throws Exception {
        Scenario s = files.load(HEAD + """
                steps:
                  - ioas-map: { process: app, iova: 0, addr: 0x1000, size: 16GiB, prot: rw, on-fault: true }
                """);

        assertThat(((IoasMap) s.steps().get(0)).size()).isEqualTo(16L << 30);
    }
}
