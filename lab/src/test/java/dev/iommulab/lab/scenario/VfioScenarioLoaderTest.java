package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The iommufd steps, expectations and keys of docs/scenario-format.md: what they bind to, and their problems. */
class VfioScenarioLoaderTest extends ScenarioFileTest {

    @Test
    void load_everyVfioStepAndKey_bindsRecords() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware:
                  model: vtd
                devices:
                  - { name: acc0, bdf: "00:03.0", virtual-function: true }
                processes:
                  - name: app
                    user-response: manual
                    vmas: [{ start: 0x1000, size: 8KiB }]
                steps:
                  - vfio-bind: { device: acc0, process: app }
                  - vfio-attach: { device: acc0 }
                  - vfio-attach: { device: acc0, pasid: 2048, fault: false }
                  - vfio-replace: { device: acc0, pasid: 2048 }
                  - ioas-map: { process: app, iova: 0x100000, addr: 0x1000, size: 4KiB, prot: rw, on-fault: true }
                  - dma: { device: acc0, pasid: 2048, addr: 0x100000, size: 4KiB, access: read }
                  - fault-read: { process: app, bytes: 80 }
                  - fault-write: { process: app, cookie: last-read, code: INVALID }
                  - fault-write: { process: app, cookie: 0x7, code: 2 }
                  - ioas-unmap: { process: app, iova: 0x100000, size: 4KiB }
                  - vfio-pasid-stop: { device: acc0, pasid: 2048 }
                  - vfio-detach: { device: acc0 }
                  - fault-close: { process: app }
                  - vfio-unbind: { device: acc0 }
                  - iommufd-close: { process: app }
                expect:
                  - step-error: { step: fault-write, errno: EINVAL, count: 1 }
                  - fault-read: { process: app, by: step, pasid: 2048, last: true, records: 1, groups: 1 }
                  - fault-write: { process: app, code: INVALID, accepted: true }
                  - fault-queue: { process: app, unread: 0, after-step: 7 }
                """);

        assertThat(s.devices().get(0).virtualFunction()).isTrue();
        assertThat(s.processes().get(0).userResponse()).isEqualTo("manual");
        assertThat(s.steps()).extracting(Step::kind).containsExactly("vfio-bind", "vfio-attach", "vfio-attach",
                "vfio-replace", "ioas-map", "dma", "fault-read", "fault-write", "fault-write", "ioas-unmap",
                "vfio-pasid-stop", "vfio-detach", "fault-close", "vfio-unbind", "iommufd-close");
        assertThat(s.steps().get(1)).isInstanceOfSatisfying(VfioAttach.class, a -> {
            assertThat(a.pasid()).isNull();
            assertThat(a.fault()).isTrue();
        });
        assertThat(s.steps().get(2)).isInstanceOfSatisfying(VfioAttach.class, a -> {
            assertThat(a.pasid()).isEqualTo(2048);
            assertThat(a.fault()).isFalse();
        });
        assertThat(s.steps().get(4)).isInstanceOfSatisfying(IoasMap.class, m -> {
            assertThat(m.onFault()).isTrue();
            assertThat(m.writable()).isTrue();
        });
        assertThat(s.steps().get(5)).isInstanceOfSatisfying(Dma.class, d -> assertThat(d.pasid()).isEqualTo(2048));
        assertThat(s.steps().get(7)).isEqualTo(new FaultWrite("app", null, 1, null, s.steps().get(7).location()));
        assertThat(s.steps().get(8)).isEqualTo(new FaultWrite("app", 7L, 2, null, s.steps().get(8).location()));
        assertThat(s.expectations()).extracting(Expectation::describe).containsExactly(
                "step-error EINVAL step=fault-write x1",
                "fault-read app by=step pasid=2048 last=true records=1 groups=1",
                "fault-write app code=INVALID accepted=true",
                "fault-queue app unread=0 after step 7");
    }

    @Test
    void load_badVfioArguments_reportsEachAtItsValue() {
        List<ScenarioProblem> problems = files.problems("""
                name: t
                hardware:
                  model: vtd
                devices:
                  - { name: acc0, bdf: "00:03.0", virtual-function: maybe }
                processes:
                  - name: app
                    user-response: sometimes
                    vmas: [{ start: 0x1000, size: 8KiB }]
                steps:
                  - vfio-attach: { device: acc0, pasid: 0 }
                  - fault-write: { process: app, cookie: first, code: OK }
                  - dma: { device: acc0, pasid: 1, process: app, addr: 0, size: 4KiB, access: read }
                  - ioas-map: { process: app, iova: 0x100, addr: 0x1000, size: 4KiB, prot: x }
                expect:
                  - step-error: { errno: EWHAT }
                  - fault-queue: { process: app }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key).containsExactly(
                tuple("5:53", "devices.0.virtual-function"),
                tuple("8:20", "processes.0.user-response"),
                tuple("11:41", "steps.0.vfio-attach.pasid"),
                tuple("12:42", "steps.1.fault-write.cookie"),
                tuple("12:55", "steps.1.fault-write.code"),
                tuple("13:45", "steps.2.dma.process"),
                tuple("14:37", "steps.3.ioas-map.iova"),
                tuple("14:76", "steps.3.ioas-map.prot"),
                tuple("16:26", "expect.0.step-error.errno"),
                tuple("17:18", "expect.1.fault-queue"));
        assertThat(problems.get(1).message()).isEqualTo("unknown user-response 'sometimes'; allowed: "
                + "resolve-and-succeed, always-invalid, never, manual");
        assertThat(problems.get(3).message()).isEqualTo("expected a u32 or last-read, found 'first'");
        assertThat(problems.get(4).message()).isEqualTo("expected SUCCESS, INVALID or a u32, found 'OK'");
        assertThat(problems.get(9).message()).isEqualTo("a fault-queue expectation needs unread or unanswered");
    }
}
