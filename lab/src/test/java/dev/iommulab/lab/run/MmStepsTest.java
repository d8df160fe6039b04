package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.mm.Vma;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import dev.iommulab.lab.scenario.StepKinds;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runner's process address-space steps: {@code mmap}, {@code munmap} and {@code mprotect} change the CPU page
 * tables the IOMMU walks for a bound device's PASID, and the SVA domain's mmu notifier invalidates the IOTLB and the
 * device-TLB (intel_arch_invalidate_secondary_tlbs() in intel/svm.c; the lab's RISC-V option) before munmap() frees
 * the pages, so the device never uses a stale translation; faults in what is gone, forbidden or backed by nothing
 * are answered INVALID (iommu_sva_handle_iopf(), reference/linux-fault-stack.md §8 items 2-4).
 */
class MmStepsTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private Scenario scenario(String model, String steps) throws Exception {
        String text = ScenarioFiles.boundAccelerator(model) + steps;
        return new ScenarioLoader().load(ScenarioFiles.write(dir, "mm.yaml", text));
    }

    private RunResult run(String model, String steps) throws Exception {
        return runner.run(scenario(model, steps));
    }

    private static String statuses(RunResult r) {
        return String.join(",", r.dma().stream().map(RunResult.DmaEntry::status).toList());
    }

    /**
     * A DMA faults the page in and succeeds; munmap of that page (its ATC entry and IOTLB entry invalidated by the
     * notifier before the frame is freed); the second DMA to the address finds no translation and no VMA: invalid.
     * VT-d and the lab's RISC-V option alike.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    void munmap_betweenTwoDmas_secondDmaInvalid(String model) throws Exception {
        RunResult r = run(model, """
                  - dma: { device: acc0, process: app, addr: 0x7f0000001000, size: 64, access: write }
                  - run: idle
                  - munmap: { process: app, start: 0x7f0000001000, size: 4KiB }
                  - dma: { device: acc0, process: app, addr: 0x7f0000001000, size: 64, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(statuses(r)).isEqualTo("ok,invalid");
        assertThat(runner.machine().process("app").vmaLookup(0x7f0000001000L)).isNull();
        // the first DMA was legal when it ran: dma-within-mappings judges each access when it happens
        assertThat(r.invariants()).filteredOn(i -> i.name().equals("dma-within-mappings")).singleElement()
                .satisfies(i -> assertThat(i.holds()).as(i.detail()).isTrue());
    }

    /** mprotect to r: a later device write is invalid while a read of the same page still succeeds. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    void mprotect_readWriteToRead_writeInvalidReadOk(String model) throws Exception {
        RunResult r = run(model, """
                  - dma: { device: acc0, process: app, addr: 0x7f0000002000, size: 64, access: write }
                  - run: idle
                  - mprotect: { process: app, start: 0x7f0000002000, size: 4KiB, prot: r }
                  - dma: { device: acc0, process: app, addr: 0x7f0000002000, size: 64, access: write }
                  - run: idle
                  - dma: { device: acc0, process: app, addr: 0x7f0000002000, size: 64, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(statuses(r)).isEqualTo("ok,invalid,ok");
    }

    /**
     * mmap adds VMAs a device can use: anonymous rw works; PROT_NONE and a VMA backed by nothing (VM_FAULT_SIGBUS,
     * §8 item 4) are invalid.
     */
    @Test
    void mmap_anonymousNoneAndBackedByNothing_okThenInvalidTwice() throws Exception {
        RunResult r = run("vtd", """
                  - mmap: { process: app, start: 0x7f1000000000, size: 8KiB }
                  - mmap: { process: app, start: 0x7f2000000000, size: 4KiB, prot: none }
                  - mmap: { process: app, start: 0x7f3000000000, size: 4KiB, prot: rw, backing: none }
                  - dma: { device: acc0, process: app, addr: 0x7f1000001000, size: 64, access: write }
                  - run: idle
                  - dma: { device: acc0, process: app, addr: 0x7f2000000000, size: 64, access: read }
                  - run: idle
                  - dma: { device: acc0, process: app, addr: 0x7f3000000000, size: 64, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).isEmpty();
        assertThat(statuses(r)).isEqualTo("ok,invalid,invalid");
        assertThat(runner.machine().process("app").vmaLookup(0x7f3000000000L).backing()).isEqualTo(Vma.Backing.NONE);
    }

    /**
     * Kernel errors of the steps are step errors naming errno and argument, and change nothing: mmap over an existing
     * VMA is EEXIST (MAP_FIXED_NOREPLACE), mprotect over a hole ENOMEM.
     */
    @Test
    void mmapOverlapAndMprotectHole_stepErrorsEexistAndEnomem() throws Exception {
        RunResult r = run("vtd", """
                  - mmap: { process: app, start: 0x7f0000008000, size: 4KiB }
                  - mprotect: { process: app, start: 0x7f000000f000, size: 8KiB, prot: r }
                """);

        assertThat(r.stepErrors()).extracting(RunResult.StepErrorEntry::error).satisfiesExactly(
                e -> assertThat(e).startsWith("EEXIST (start)"), e -> assertThat(e).startsWith("ENOMEM (start)"));
        assertThat(runner.machine().process("app").vmas()).hasSize(1);
        assertThat(runner.machine().process("app").vmas().get(0).flags()).isEqualTo(Vma.flagsOf("rw"));
    }

    /**
     * A step kind the lab cannot perform is refused before anything runs, naming its location and the kinds that
     * are available (every kind of the format is implemented today, so the check runs with a reduced set).
     */
    @Test
    void checkSteps_kindNotSupported_namesLocationAndAvailableKinds() throws Exception {
        Scenario s = scenario("vtd", "  - munmap: { process: app, start: 0x7f0000000000, size: 4KiB }\n");
        Set<String> without = new HashSet<>(StepKinds.keys());
        without.remove("munmap");

        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> ScenarioRunner.checkSteps(s, without));

        assertThat(e.getMessage()).contains("mm.yaml:12:").contains("step 'munmap' is not available yet")
                .contains("available: attach, dma,").doesNotContain("munmap,");
        ScenarioRunner.check(s);
    }
}
