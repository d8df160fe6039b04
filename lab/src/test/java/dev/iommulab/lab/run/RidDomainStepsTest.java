package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuMap;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner's {@code attach}, {@code map}, {@code unmap} steps and {@code dma} without a process, on VT-d:
 * iommu_attach_device() / iommu_group_replace_domain() / iommu_detach_device(), iommu_map() and iommu_unmap() in
 * the RID domain, and DMA through it. A refused kernel call is a step error and changes nothing.
 */
class RidDomainStepsTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String steps) throws Exception {
        String text = """
                name: rid
                hardware:
                  model: vtd
                devices:
                  - { name: nic0, bdf: "00:04.0", profile: nic }
                steps:
                """ + steps + """
                expect:
                  - device: { name: nic0, pri-enabled: false }
                """;
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "rid.yaml", text)));
    }

    /** attach dma, map, DMA ok; unmap; the same DMA faults. */
    @Test
    void mapDmaUnmap_dmaDomain_okThenUr() throws Exception {
        RunResult r = run("""
                  - attach: { device: nic0, domain: dma }
                  - map: { device: nic0, iova: 0x200000, size: 4KiB, prot: r }
                  - dma: { device: nic0, addr: 0x200000, size: 4KiB, access: read }
                  - run: idle
                  - unmap: { device: nic0, iova: 0x200000, size: 4KiB }
                  - dma: { device: nic0, addr: 0x200000, size: 4KiB, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok", "ur");
        assertThat(r.faultRecords()).extracting(RunResult.FaultRecordEntry::reason)
                .containsExactly("TRANSLATION_NOT_PRESENT");
        assertThat(runner.machine().core().getDomainForDev(runner.machine().device("nic0")).type())
                .as("dma.flush: lazy by default").isEqualTo(DomainType.DMA_FQ);
    }

    /**
     * map on the blocking domain is -EINVAL (not a paging domain); after attach identity a DMA reaches the
     * physical address; attach dma then replaces it; attach blocked detaches back to the blocking domain.
     */
    @Test
    void attachSequence_blockedIdentityDmaBlocked_eachInPlace() throws Exception {
        RunResult r = run("""
                  - map: { device: nic0, iova: 0x200000, size: 4KiB, prot: rw }
                  - attach: { device: nic0, domain: identity }
                  - dma: { device: nic0, addr: 0x100000, size: 64, access: read }
                  - run: idle
                  - attach: { device: nic0, domain: dma }
                  - dma: { device: nic0, addr: 0x100000, size: 64, access: read }
                  - run: idle
                  - attach: { device: nic0, domain: blocked }
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> {
            assertThat(e.step()).contains("map");
            assertThat(e.error()).startsWith("EINVAL");
        });
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok", "ur");
        assertThat(runner.machine().core().getDomainForDev(runner.machine().device("nic0")).type())
                .isEqualTo(DomainType.BLOCKED);
    }

    /**
     * A page that cannot be allocated ({@code fail-allocations: frame}; the step's backing pages and the
     * page-table pages come from the same allocator) makes the map step fail with ENOMEM and leaves nothing
     * mapped: the DMA faults and the page table is still only its root.
     */
    @Test
    void map_frameAllocationFails_enomemAndNothingMapped() throws Exception {
        RunResult r = run("""
                  - attach: { device: nic0, domain: dma }
                  - fail-allocations: { site: frame, count: 1 }
                  - map: { device: nic0, iova: 0x200000, size: 4KiB, prot: r }
                  - dma: { device: nic0, addr: 0x200000, size: 64, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> assertThat(e.error()).startsWith("ENOMEM"));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ur");
        var domain = runner.machine().core().getDomainForDev(runner.machine().device("nic0"));
        assertThat(IommuMap.iovaToPhys(domain, 0x200000)).isZero();
        assertThat(domain.pgtable().tablePages()).hasSize(1);
    }
}
