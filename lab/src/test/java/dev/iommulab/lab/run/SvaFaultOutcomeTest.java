package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SVA fault path end to end on VT-d: what the device finally sees for the outcomes of
 * {@code iommu_sva_handle_mm()} (drivers/iommu/iommu-sva.c), linux-fault-stack.md §2.5 and §8 items 1-3.
 */
class SvaFaultOutcomeTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String vma, String dma) throws Exception {
        Path file = ScenarioFiles.write(dir, "s.yaml", ScenarioFiles.svaScenario(vma, dma));
        return runner.run(new ScenarioLoader().load(file));
    }

    /** §8 item 1: a write to fresh memory of an RW VMA is served; the written bytes land in the process. */
    @Test
    void dma_writeToFreshRwMemory_servedSuccessAndBytesInProcess() throws Exception {
        RunResult r = run("{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 8KiB, access: write }");

        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::code, RunResult.PageResponseEntry::origin,
                RunResult.PageResponseEntry::pasid, RunResult.PageResponseEntry::grpid)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("SUCCESS", "sva", 1, 0),
                        org.assertj.core.groups.Tuple.tuple("SUCCESS", "sva", 1, 1));
        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("ok");
            assertThat(d.memoryMatches()).isTrue();
        });
        assertThat(runner.machine().process("app").handledFaults()).isEqualTo(2);
        assertThat(r.outcome()).isEqualTo("pass");
    }

    /** §8 item 2: no VMA covers the address, so the group is answered INVALID and the DMA fails. */
    @Test
    void dma_addressOutsideEveryVma_invalidResponseAndDmaInvalid() throws Exception {
        RunResult r = run("{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f1000000000, size: 4KiB, access: write }");

        assertThat(r.pageResponses()).singleElement().satisfies(p -> {
            assertThat(p.code()).isEqualTo("INVALID");
            assertThat(p.wireCode()).isEqualTo("0x1");
            assertThat(p.origin()).isEqualTo("sva");
        });
        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("invalid");
            assertThat(d.faultAddr()).isEqualTo("0x7f1000000000");
        });
        assertThat(runner.machine().process("app").handledFaults()).isZero();
    }

    /**
     * §8 item 3: a write fault on a read-only VMA is answered INVALID and handle_mm_fault() is never
     * called, because the rights check against the VMA comes first.
     */
    @Test
    void dma_writeToReadOnlyVma_invalidWithoutHandleMmFault() throws Exception {
        RunResult r = run("{ start: 0x7f0000000000, size: 64KiB, prot: r }",
                "{ device: acc0, process: app, addr: 0x7f0000002000, size: 4KiB, access: write }");

        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::code).containsExactly("INVALID");
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("invalid");
        assertThat(runner.machine().process("app").handledFaults()).isZero();
    }

    /**
     * A read of fresh anonymous memory is served with the shared zero page, read-only; the device reads
     * zeros and a later write would fault again (handle_mm_fault read path).
     */
    @Test
    void dma_readOfFreshMemory_servedWithZeroPage() throws Exception {
        RunResult r = run("{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: read }");

        assertThat(r.pageResponses()).extracting(RunResult.PageResponseEntry::code).containsExactly("SUCCESS");
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok");
    }
}
