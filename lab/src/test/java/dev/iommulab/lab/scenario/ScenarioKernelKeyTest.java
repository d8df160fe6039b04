package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The top-level key {@code kernel} and the {@code back-pressure} response origin. */
class ScenarioKernelKeyTest extends ScenarioFileTest {

    @Test
    void load_noKernelKey_defaultsToLatest() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware: { model: vtd }
                """);

        assertThat(s.kernel()).isEqualTo("latest").isEqualTo(Scenario.DEFAULT_KERNEL);
    }

    @Test
    void load_eachKernelVersion_isKept() throws Exception {
        for (String version : Scenario.KERNELS) {
            Scenario s = files.load("name: t\nkernel: " + version + "\nhardware: { model: vtd }\n");

            assertThat(s.kernel()).isEqualTo(version);
        }
    }

    @Test
    void load_unknownKernel_reportsKeyLineAndColumnWithChoices() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtd }
                kernel: v5.10
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("3:9", "kernel"));
        assertThat(problems.get(0).message()).contains("latest").contains("pre-6.8");
    }

    @Test
    void load_kernelOverride_replacesValue() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware: { model: vtd }
                """, "kernel=pre-6.8");

        assertThat(s.kernel()).isEqualTo("pre-6.8");
    }

    @Test
    void load_backPressureOrigin_isAcceptedInPageResponseExpectation() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware: { model: vtd }
                devices:
                  - { name: acc0, bdf: "00:03.0", ats: true, pri: true, pasid-bits: 8 }
                expect:
                  - page-response: { device: acc0, code: INVALID, origin: back-pressure, count: 0 }
                """);

        assertThat(s.expectations()).singleElement().isInstanceOfSatisfying(PageResponseExpect.class,
                e -> assertThat(e.origin()).isEqualTo("back-pressure"));
    }
}
