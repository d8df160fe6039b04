package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's {@code remove-device} and {@code flr} steps on VT-d: iopf_queue_remove_device() (io-pgfault.c,
 * reference/linux-fault-stack.md §3.5) and pci_reset_function() (drivers/pci/pci.c: FLR, then the PASID, PRI and
 * ATS state restored).
 */
class DeviceLifecycleStepsTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String steps) throws Exception {
        String text = ScenarioFiles.boundAccelerator("vtd") + steps;
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "l.yaml", text)));
    }

    /**
     * §3.5: remove-device frees the parked partial without a response and unpublishes the fault param; the group's
     * LPIG arriving afterwards finds no param and is answered INVALID on the bad-setup path, holding no partial.
     */
    @Test
    void removeDevice_partialParked_partialFreedAndLaterLpigAnsweredInvalid() throws Exception {
        RunResult r = run("""
                  - page-request: { device: acc0, process: app, grpid: 3, addr: 0x7f0000000000, access: read, last: false }
                  - run: idle
                  - remove-device: { device: acc0 }
                  - page-request: { device: acc0, process: app, grpid: 3, addr: 0x7f0000001000, access: read, last: true }
                  - run: idle
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::grpid, RunResult.PageResponseEntry::code,
                RunResult.PageResponseEntry::origin).containsExactly(tuple(3, "INVALID", "bad-setup"));
        assertThat(runner.machine().iopf().queueOf(runner.machine().device("acc0"))).isNull();
        assertThat(runner.machine().iopf().partials(runner.machine().device("acc0"))).isEmpty();
    }

    /** remove-device of a device on no iopf queue warns as the kernel's WARN does and changes nothing. */
    @Test
    void removeDevice_notOnQueue_warnsAndChangesNothing() throws Exception {
        RunResult r = run("""
                  - remove-device: { device: acc0 }
                  - remove-device: { device: acc0 }
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.log()).anySatisfy(l -> assertThat(l).contains("iopf_queue_remove_device").contains("not on queue"));
    }

    /**
     * FLR: the function's ATC and PRI credits are gone and what software enabled (ATS, PASID, PRI with its
     * allocation) is back.
     */
    @Test
    void flr_afterServedDma_atcEmptyAndEnabledStateRestored() throws Exception {
        RunResult r = run("""
                  - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }
                  - run: idle
                  - flr: { device: acc0 }
                """);
        PcieEndpoint ep = runner.machine().endpoint("acc0");

        assertThat(r.stepErrors()).isEmpty();
        assertThat(ep.atcEntriesInUse()).isZero();
        assertThat(ep.atsEnabled()).isTrue();
        assertThat(ep.pasidEnabled()).isTrue();
        assertThat(ep.priState().enabled()).isTrue();
        assertThat(ep.priState().creditsInUse()).isZero();

    }

    /** After the FLR the ATC is empty: the DMA translates again through ATS and needs no new page request. */
    @Test
    void flr_thenDmaToServedPage_okWithoutPageRequest() throws Exception {
        RunResult r = run("""
                  - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }
                  - run: idle
                  - flr: { device: acc0 }
                  - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: read }
                  - run: idle
                """);

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok", "ok");
        assertThat(r.pageResponses()).as("no new page request after the reset").hasSize(1);
        assertThat(runner.machine().endpoint("acc0").atcEntriesInUse()).isPositive();
    }

    /**
     * §8 item 30 from a scenario: after exit-process the VT-d PASID entry is fault-disabled (intel_mm_release()):
     * the device's next translation request gets UR with its fault record suppressed (FPD), and a page request
     * (LPIG) is answered Invalid Request by the unit itself (origin hardware), never reaching software; the later
     * sva-unbind succeeds; a second exit is ESRCH and changes nothing.
     */
    @Test
    void exitProcess_whileBound_hardwareAnswersInvalidThenUnbindAndSecondExitRefused() throws Exception {
        RunResult r = run("""
                  - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }
                  - run: idle
                  - exit-process: { process: app }
                  - dma: { device: acc0, process: app, addr: 0x7f0000004000, size: 4KiB, access: write }
                  - run: idle
                  - page-request: { device: acc0, process: app, grpid: 7, addr: 0x7f0000004000, access: write, last: true }
                  - run: idle
                  - sva-unbind: { device: acc0, process: app }
                  - exit-process: { process: app }
                """);

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok", "ur");
        assertThat(r.faultRecords()).extracting(RunResult.FaultRecordEntry::recorded).containsOnly(false);
        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::code, RunResult.PageResponseEntry::origin)
                .containsExactly(tuple("SUCCESS", "sva"), tuple("INVALID", "hardware"));
        assertThat(r.stepErrors()).singleElement().satisfies(e -> {
            assertThat(e.step()).contains("exit-process");
            assertThat(e.error()).contains("ESRCH");
        });
        assertThat(runner.machine().process("app").vmas()).isEmpty();
    }
}
