package dev.iommulab.lab.scenario;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.iommulab.lab.scenario.ScenarioFiles.at;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The {@code guests} section and {@code guest:} on steps and expectations (docs/scenario-format.md, "Guests"): what
 * binds, and every mistake reported at its file:line:column with the key at fault.
 */
class GuestScenarioLoaderTest extends ScenarioFileTest {

    private static final String HEAD = """
            name: g
            hardware:
              model: vtd
            devices:
              - { name: nvme0, bdf: "03:00.0", profile: nvme }
            guests:
              - name: vm0
                memory: 256MiB
                viommu:
                  model: virtio-iommu
                  options: { no-buffer: wait, eventq-buffers: 4 }
                devices:
                  - { name: vnet0, bdf: "00:02.0", profile: nic }
                  - { name: vnet1, bdf: "00:03.0", profile: nic, viot: false }
            """;

    @Test
    void load_guestStepsAndExpectations_boundInsideTheGuest() throws Exception {
        Scenario s = files.load(HEAD + """
                steps:
                  - attach: { guest: vm0, device: vnet0, domain: dma }
                  - dma: { device: nvme0, addr: 0x1000, size: 64, access: read }
                expect:
                  - virtio-event: { guest: vm0, device: vnet0, reason: MAPPING, delivered: false, count: 2 }
                  - log: { guest: vm0, contains: "page fault" }
                """);

        GuestSpec vm0 = s.guests().get(0);
        assertThat(vm0.memoryBytes()).isEqualTo(256L << 20);
        assertThat(vm0.viommuOptions()).containsEntry("no-buffer", "wait").containsEntry("eventq-buffers", 4L);
        assertThat(vm0.devices()).extracting(GuestSpec.Device::viot).containsExactly(true, false);
        assertThat(s.steps().get(0)).isInstanceOfSatisfying(GuestStep.class, g -> {
            assertThat(g.guest()).isEqualTo("vm0");
            assertThat(g.kind()).isEqualTo("attach");
        });
        assertThat(s.steps().get(1)).isInstanceOf(Dma.class);
        assertThat(s.expectations()).extracting(Expectation::describe).containsExactly(
                "vm0: virtio-event vnet0 MAPPING dropped x2", "vm0: log contains \"page fault\"");
    }

    @Test
    void load_guestDeviceOnTheHost_undefinedDevice() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - dma: { device: vnet0, addr: 0x1000, size: 64, access: read }
                """);

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(at(p)).isEqualTo("16:20");
            assertThat(p.key()).isEqualTo("steps.0.dma.device");
            assertThat(p.message()).isEqualTo("undefined device 'vnet0'; declared: nvme0");
        });
    }

    @Test
    void load_unknownGuestAndHostDeviceInGuest_reportedWhereWritten() {
        List<ScenarioProblem> problems = files.problems(HEAD + """
                steps:
                  - dma: { guest: vm1, device: vnet0, addr: 0x1000, size: 64, access: read }
                  - dma: { guest: vm0, device: nvme0, addr: 0x1000, size: 64, access: read }
                """);

        assertThat(problems).extracting(ScenarioFiles::at, ScenarioProblem::key, ScenarioProblem::message)
                .containsExactly(
                        tuple("16:19", "steps.0.dma.guest", "unknown guest 'vm1'; declared: vm0"),
                        tuple("17:32", "steps.1.dma.device", "undefined device 'nvme0'; declared: vnet0, vnet1"));
    }

    @Test
    void load_badGuestSection_everyProblem() {
        List<ScenarioProblem> problems = files.problems("""
                name: g
                hardware:
                  model: vtd
                guests:
                  - name: vm0
                    memory: 1000
                    viommu: { model: smmu }
                    devices:
                      - { name: a, bdf: "00:02.0", backing: assigned }
                      - { name: b, bdf: "00:02.0", backing: emulated, host-device: x }
                  - name: vm0
                    viommu: { model: virtio-iommu }
                """);

        assertThat(problems).extracting(ScenarioProblem::key).containsExactly("guests.0.memory",
                "guests.0.viommu.model", "guests.0.devices.0.host-device", "guests.0.devices.1.bdf",
                "guests.0.devices.1.host-device", "guests.1.memory", "guests.1.name");
    }
}
