package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TraceEvent;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code pasid-stop} step: the device driver's PASID stop before iommu_sva_unbind_device() (its caller
 * guarantee, reference/linux-fault-stack.md §4.2 and §3.3: "a PCIe PASID-stop pushes all outstanding page requests,
 * so PRGs of a stopped PASID are whole"), performed by {@link dev.iommulab.hw.pci.PcieEndpoint#stopPasid}.
 */
class PasidStopStepTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String pasidBits, String steps) throws Exception {
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "s.yaml", """
                name: stop
                hardware: { model: vtd }
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: %s }
                processes:
                  - name: app
                    vmas:
                      - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                steps:
                """.formatted(pasidBits) + steps)));
    }

    /**
     * Two requests of group 5 are parked (report_partial_fault()); the stop finishes the open group with an LPIG
     * repeating its last page, so io-pgfault assembles the group and the SVA handler answers it once; the Stop
     * Marker behind it is dropped by prq_event_thread(); nothing stays parked.
     */
    @Test
    void pasidStop_openGroupOfTwoPartials_groupFinishedAnsweredOnceNothingParked() throws Exception {
        RunResult r = run("20", """
                  - sva-bind: { device: acc0, process: app }
                  - page-request: { device: acc0, process: app, grpid: 5, addr: 0x7f0000000000, access: write, last: false, pages: 2 }
                  - run: idle
                  - pasid-stop: { device: acc0, process: app }
                  - sva-unbind: { device: acc0, process: app }
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::pasid, RunResult.PageResponseEntry::grpid,
                RunResult.PageResponseEntry::code, RunResult.PageResponseEntry::origin)
                .containsExactly(tuple(1, 5, "SUCCESS", "sva"));
        assertThat(r.counters()).containsEntry("pageRequests", 3L).containsEntry("iopfGroups", 1L);
        assertThat(runner.machine().iopf().partials(runner.machine().device("acc0"))).isEmpty();
        assertThat(r.journey()).filteredOn(s -> s.layer() == Layer.LAB && s.symbol().equals("pasid-stop"))
                .extracting(TraceEvent.Step::message)
                .containsExactly("acc0: device driver stops PASID 1", "acc0: PASID 1 stopped, Stop Marker sent");
    }

    /** A work item of the PASID running when the stop comes ends {@code aborted}; the next step waits for it. */
    @Test
    void pasidStop_dmaRunning_dmaAbortedBeforeNextStep() throws Exception {
        RunResult r = run("20", """
                  - sva-bind: { device: acc0, process: app }
                  - dma: { at: 100us, device: acc0, process: app, addr: 0x7f0000000000, size: 32KiB, access: write }
                  - pasid-stop: { at: 101us, device: acc0, process: app }
                  - sva-unbind: { device: acc0, process: app }
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("aborted");
    }

    @Test
    void pasidStop_deviceWithoutPasidCapability_stepErrorEinvalNamingDevice() throws Exception {
        RunResult r = run("0", """
                  - pasid-stop: { device: acc0, pasid: 1 }
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> {
            assertThat(e.step()).isEqualTo("pasid-stop");
            assertThat(e.error()).startsWith("EINVAL (device)").contains("acc0 has no PASID enabled");
        });
        assertThat(r.journey()).noneMatch(s -> s.symbol().equals("pci-pasid"));
    }

    @Test
    void pasidStop_pasidBeyondDeviceWidth_stepErrorEinvalNamingPasid() throws Exception {
        RunResult r = run("4", """
                  - pasid-stop: { device: acc0, pasid: 16 }
                  - pasid-stop: { device: acc0, process: app }
                """);

        assertThat(r.stepErrors()).extracting(RunResult.StepErrorEntry::error).satisfiesExactly(
                e -> assertThat(e).startsWith("EINVAL (pasid)").contains("PASID 16 is beyond acc0's 4-bit PASIDs"),
                e -> assertThat(e).startsWith("EINVAL (process)").contains("app has no PASID"));
    }
}
