package dev.iommulab.lab.scenario;

import static dev.iommulab.lab.scenario.ScenarioFiles.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Invalid steps and expectations: each problem at its exact line, column and key. */
class StepErrorsTest extends ScenarioFileTest {

    private static final String VFIO_STEPS = "vfio-bind, vfio-unbind, vfio-attach, vfio-replace, vfio-detach, "
            + "vfio-pasid-stop, ioas-map, ioas-unmap, fault-read, fault-write, fault-close, iommufd-close";

    @Test
    void load_undefinedDevice_reportsAtReference() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - dma: { device: acc1, addr: 0x1000, size: 4KiB, access: read }
                """);

        assertThat(problems).hasSize(1);
        assertThat(at(problems.get(0))).isEqualTo("11:20");
        assertThat(problems.get(0).key()).isEqualTo("steps.0.dma.device");
        assertThat(problems.get(0).message()).isEqualTo("undefined device 'acc1'; declared: acc0");
    }

    @Test
    void load_undefinedProcess_reportsAtReference() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - sva-bind: { device: acc0, process: ap }
                """);

        assertThat(problems).extracting(ScenarioFiles::at).containsExactly("11:40");
        assertThat(problems.get(0).message()).isEqualTo("undefined process 'ap'; declared: app");
    }

    @Test
    void load_badNumber_reportsAtValue() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - dma:
                      device: acc0
                      addr: 0x1000
                      size: 8KQ
                      access: read
                """);

        assertThat(problems).hasSize(1);
        assertThat(at(problems.get(0))).isEqualTo("14:13");
        assertThat(problems.get(0).key()).isEqualTo("steps.0.dma.size");
        assertThat(problems.get(0).message()).startsWith("invalid number '8KQ'");
    }

    @Test
    void load_badTime_reportsAtValue() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - run: { for: 5s }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key)
                .containsExactly(tuple("11:17", "steps.0.run.for"));
        assertThat(problems.get(0).message()).startsWith("invalid time '5s'");
    }

    @Test
    void load_unknownEnumValues_listsAllowedValues() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware: { model: vtx }
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: gpu }
                steps:
                  - attach: { device: acc0, domain: paging }
                  - map: { device: acc0, iova: 0, size: 4KiB, prot: rwz }
                  - dma: { device: acc0, addr: 0, size: 4KiB, access: rw }
                expect:
                  - page-response: { device: acc0, code: OK }
                  - dma: { device: acc0, status: fine }
                """);

        assertThat(problems).extracting(ScenarioProblem::message).containsExactly(
                "unknown model 'vtx'; allowed: vtd, riscv, smmuv3, amd, virtio-iommu",
                "unknown profile 'gpu'; allowed: accelerator, nic, nvme, generic",
                "unknown domain 'paging'; allowed: dma, identity, blocked, unmanaged",
                "invalid prot 'rwz'; allowed: the letters r, w, x (e.g. r, rw, rwx) or none",
                "unknown access 'rw'; allowed: read, write, exec",
                "unknown code 'OK'; allowed: SUCCESS, INVALID, FAILURE",
                "unknown status 'fine'; allowed: ok, ur, ca, dropped, invalid, pri-failed, retry-limit, device-error, aborted, pending");
        assertThat(problems).extracting(ScenarioFiles::at)
                .containsExactly("2:20", "4:44", "6:37", "7:53", "8:55", "10:42", "11:34");
    }

    @Test
    void load_malformedSteps_reportsEach() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - { flr: { device: acc0 }, remove-device: { device: acc0 } }
                  - { at: 5us }
                  - reboot: { device: acc0 }
                  - run: forever
                  - flr: acc0
                  - page-request: { device: acc0, grpid: 512, addr: 0, access: read, last: yes, pasid: 1, process: app }
                  - stop-marker: { device: acc0 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("11:30", "one step per list item; found 'flr' and 'remove-device'"),
                tuple("12:5", "a step needs one of: sva-bind, sva-unbind, attach, map, "
                        + "unmap, dma, page-request, stop-marker, pasid-stop, mmap, munmap, mprotect, exit-process, "
                        + "fail-allocations, flr, remove-device, fault-handler, run, " + VFIO_STEPS),
                tuple("13:5", "unknown key 'reboot'; allowed: sva-bind, sva-unbind, "
                        + "attach, map, unmap, dma, page-request, stop-marker, pasid-stop, mmap, munmap, mprotect, "
                        + "exit-process, fail-allocations, flr, remove-device, fault-handler, run, " + VFIO_STEPS
                        + ", at"),
                tuple("14:10", "expected 'idle' or {for: TIME}, found 'forever'"),
                tuple("15:10", "expected a mapping of arguments, found a scalar"),
                tuple("16:42", "grpid must be in 0..511, got 512"),
                tuple("16:76", "expected true or false, found 'yes'"),
                tuple("16:100", "page-request takes pasid or process, not both"),
                tuple("17:18", "stop-marker needs pasid or process"));
    }

    @Test
    void load_badExpectations_reportsEach() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                expect:
                  - device: { name: acc9 }
                  - fault-record: { device: acc0, reason: not-present, count: -1 }
                  - log: {}
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("11:13", "a device expectation needs pri-enabled or "
                        + "pri-response-failure"),
                tuple("11:21", "undefined device 'acc9'; declared: acc0"),
                tuple("12:43", "invalid reason 'not-present'; expected an upper-case "
                        + "reason name such as TRANSLATION_NOT_PRESENT"),
                tuple("12:63", "invalid number '-1'; expected decimal or 0x hex, "
                        + "optionally with KiB, MiB or GiB"),
                tuple("13:10", "missing required key 'contains'"));
    }

    /** {@code parked}: count is required, after-step names a step of the file (1..number of steps). */
    @Test
    void load_badParkedExpectations_reportsEach() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - run: idle
                expect:
                  - parked: { device: acc0, after-step: 2, count: 0 }
                  - parked: { device: acc0 }
                  - parked: { device: acc0, count: 1, after-step: 1, pasid: 3 }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::message).containsExactly(
                tuple("13:41", "after-step must be in 1..1, got 2"),
                tuple("14:13", "missing required key 'count'"));
    }

    @Test
    void load_atBesideAndInsideStep_reportsInner() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - at: 1us
                    flr: { device: acc0, at: 2us }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key, ScenarioProblem::message)
                .containsExactly(tuple("12:30", "steps.0.flr.at", "'at' is given both beside and inside the step"));
    }

    /** A dma with process still needs addr (only the DMA API form, without process, omits it). */
    @Test
    void load_dmaWithProcessWithoutAddr_missingAddrAtStep() {
        List<ScenarioProblem> problems = files.problems(ScenarioFiles.HEAD + """
                steps:
                  - dma: { device: acc0, process: app, size: 4KiB, access: read }
                """);

        assertThat(problems).extracting(ScenarioProblem::key, ScenarioProblem::message)
                .containsExactly(tuple("steps.0.dma.addr", "missing required key 'addr'"));
        assertThat(at(problems.get(0))).isEqualTo("11:10");
    }

    /** Without process, addr may be left out: the step loads as the DMA API form. */
    @Test
    void load_dmaWithoutAddrOrProcess_dmaApiForm() throws Exception {
        Scenario s = files.load(ScenarioFiles.HEAD + """
                steps:
                  - dma: { device: acc0, size: 4KiB, access: write }
                """);

        assertThat(s.steps()).singleElement().isInstanceOfSatisfying(Dma.class, d -> {
            assertThat(d.viaDmaApi()).isTrue();
            assertThat(d.addr()).isNull();
        });
    }
}
