package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.invariants.InvariantsExempt;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariant {@code dma-within-mappings} (DESIGN.md §5), judged when the IOMMU performs each access with a
 * PASID: it holds for SVA DMA served through PRI (iommu_sva_handle_mm() faulting the pages in), keeps holding when
 * the process exits after a DMA that was legal when it ran (exit_mmap() clears the VMAs later), and catches a
 * device reaching a frame through a stale ATC entry after the CPU page table was changed without the
 * invalidation the kernel's mmu notifier would send (arch_invalidate_secondary_tlbs()).
 */
class DmaWithinMappingsTest {

    private static final long VA = 0x7f0000000000L;

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private RunResult run(String steps) throws Exception {
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "m.yaml",
                ScenarioFiles.boundAccelerator("vtd") + """
                  - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 8KiB, access: write }
                  - run: idle
                """ + steps)));
    }

    private static RunResult.InvariantEntry mappings(List<RunResult.InvariantEntry> all) {
        return all.stream().filter(i -> i.name().equals("dma-within-mappings")).findFirst().orElseThrow();
    }

    @Test
    void check_svaDmaServedThroughPri_holdsForEveryAccess() throws Exception {
        RunResult r = run("");

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ok");
        RunResult.InvariantEntry inv = mappings(r.invariants());
        assertThat(inv.holds()).isTrue();
        assertThat(inv.detail()).startsWith("2 access(es) with a PASID judged");
    }

    /** A DMA legal when it ran is not blamed on the exit (exit_mmap() clears the VMAs) that came after it. */
    @Test
    void check_processExitsAfterOkDma_stillHolds() throws Exception {
        RunResult r = run("  - exit-process: { process: app }\n");

        assertThat(runner.machine().process("app").vmas()).isEmpty();
        assertThat(mappings(r.invariants()).holds()).isTrue();
    }

    /**
     * The device cached VA -> F in its ATC; the CPU page table is then pointed at another frame G directly, with no
     * IOTLB or device-TLB invalidation. The next write hits the ATC, goes out translated and lands in F, which the
     * process no longer maps at VA: the invariant fails naming the device, PASID, VA, the frame reached, the frame
     * the table holds, and the step during which it happened.
     */
    @Test
    @InvariantsExempt(reason = "rewrites a PTE without invalidation so that the checker must catch the stale ATC write",
            invariants = "dma-within-mappings")
    void check_pteRewrittenWithoutInvalidation_staleAtcWriteCaughtWhenItHappens() throws Exception {
        RunResult r = run("");
        Machine m = runner.machine();
        MmStruct mm = m.process("app");
        long oldFrame = mm.pteOf(VA).frame();
        FrameAllocator frames = m.frames();
        long newFrame = frames.allocate();
        m.cpuPageTable().install(mm.pgd(), VA, newFrame, true, false, frames::allocate);
        assertThat(m.endpoint("acc0").atcEntriesInUse()).as("ATC still holds the old translation").isPositive();

        List<DmaOutcome> outcomes = new ArrayList<>();
        byte[] data = new byte[64];
        m.endpoint("acc0").startDma(new DmaJob(VA, 64, Access.WRITE, 1, false, data), outcomes::add);
        m.loop().runUntilIdle();

        assertThat(r.passed()).isTrue();
        assertThat(outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.OK);
        RunResult.InvariantEntry inv = mappings(runner.checkInvariants());
        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).isEqualTo(String.format("acc0 PASID 1 write va %#x+64 -> pa %#x: app's page table"
                + " maps it to %#x (step run at %s:13:5)", VA, oldFrame, newFrame, dir.resolve("m.yaml")));
    }
}
