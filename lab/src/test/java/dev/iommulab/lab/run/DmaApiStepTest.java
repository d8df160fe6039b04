package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.dma.DmaFlush;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code dma} step without {@code addr} and {@code process}: the lab maps a buffer with dma_map_single()
 * (iommu_dma_map_page()), the device works at the returned IOVA, the lab unmaps it at completion
 * (iommu_dma_unmap_page()); and the policy {@code dma.flush} with its parameters.
 */
class DmaApiStepTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String steps, String... overrides) throws Exception {
        String text = """
                name: dma-api
                hardware:
                  model: vtd
                devices:
                  - { name: nic0, bdf: "00:04.0", profile: nic }
                steps:
                """ + steps + """
                expect:
                  - device: { name: nic0, pri-enabled: false }
                """;
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "dma.yaml", text), List.of(overrides)));
    }

    private static final String STALE = """
              - attach: { device: nic0, domain: dma }
              - dma: { device: nic0, size: 4KiB, access: write }
              - dma: { device: nic0, addr: 0xfffff000, size: 64, access: read, at: 1ms }
              - run: idle
              - dma: { device: nic0, addr: 0xfffff000, size: 64, access: read }
              - run: idle
            """;

    /**
     * Lazy (default): the write lands at the IOVA the DMA API returned (reported as the DMA's address); a read of
     * that IOVA 1 ms later still succeeds through the IOTLB; after the flush-queue timer it faults.
     */
    @Test
    void dmaWithoutAddr_lazy_iovaReportedAndStaleReadUntilTimer() throws Exception {
        RunResult r = run(STALE);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.dma()).extracting(RunResult.DmaEntry::addr, RunResult.DmaEntry::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("0xfffff000", "ok"),
                        org.assertj.core.groups.Tuple.tuple("0xfffff000", "ok"),
                        org.assertj.core.groups.Tuple.tuple("0xfffff000", "ur"));
        IommuDma dma = runner.machine().dma();
        assertThat(dma.liveMappings(runner.machine().device("nic0"))).as("unmapped at completion").isEmpty();
    }

    /** Strict: the unmap invalidated the IOTLB, the read at 1 ms faults already. */
    @Test
    void dmaWithoutAddr_strict_staleReadFaultsAtOnce() throws Exception {
        RunResult r = run(STALE, "policies.dma.flush=strict");

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok", "ur", "ur");
    }

    /** A queue of 2 slots holds one entry: the lab's second unmap forces the flush, closing the first window. */
    @Test
    void dmaWithoutAddr_batchTwo_secondUnmapFlushes() throws Exception {
        RunResult r = run("""
                  - attach: { device: nic0, domain: dma }
                  - dma: { device: nic0, size: 4KiB, access: read }
                  - dma: { device: nic0, size: 8KiB, access: read, at: 100us }
                  - dma: { device: nic0, addr: 0xfffff000, size: 64, access: read, at: 200us }
                  - run: idle
                """, "policies.dma.flush.batch=2", "policies.dma.flush.timeout=50ms");

        assertThat(r.dma()).extracting(RunResult.DmaEntry::addr, RunResult.DmaEntry::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("0xfffff000", "ok"),
                        org.assertj.core.groups.Tuple.tuple("0xffffc000", "ok"),
                        org.assertj.core.groups.Tuple.tuple("0xfffff000", "ur"));
        assertThat(runner.machine().dma().options())
                .isEqualTo(new DmaFlush(DmaFlush.Mode.LAZY, 2, 50_000_000L));
    }

    /** On the blocking domain the DMA API has no domain: a step error ENODEV, nothing allocated or started. */
    @Test
    void dmaWithoutAddr_blockedDevice_stepErrorEnodev() throws Exception {
        RunResult r = run("""
                  - dma: { device: nic0, size: 4KiB, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).extracting(RunResult.StepErrorEntry::error)
                .singleElement().asString().startsWith("ENODEV (dev)");
        assertThat(r.dma()).isEmpty();
    }

    /** dma.flush values and parameters are validated before anything runs, naming the key. */
    @Test
    void checkHardware_badDmaFlushChoices_namesKey() throws Exception {
        for (String[] bad : new String[][] {{"policies.dma.flush=eager", "policies.dma.flush"},
                {"policies.dma.flush.batch=3", "policies.dma.flush.batch"},
                {"policies.dma.flush.timeout=10s", "policies.dma.flush.timeout"}}) {
            MachineConfigException e = catchThrowableOfType(MachineConfigException.class, () -> Machine.checkHardware(
                    new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("dma-api-lazy.yaml"), List.of(bad[0]))));
            assertThat(e).as(bad[0]).isNotNull();
            assertThat(e.key()).isEqualTo(bad[1]);
        }
    }
}
