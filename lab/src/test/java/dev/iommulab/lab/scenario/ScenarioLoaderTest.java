package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Loading valid scenario files. */
class ScenarioLoaderTest extends ScenarioFileTest {

    @Test
    void load_contractExample_bindsEveryField() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE);

        assertThat(s.name()).isEqualTo("sva-first-touch");
        assertThat(s.description()).startsWith("A device touches fresh process memory");
        assertThat(s.seed()).isEqualTo(7);
        assertThat(s.hardware()).isEqualTo(new HardwareSpec("vtd", java.util.Map.of("prq-entries", 64L)));
        assertThat(s.policies()).containsExactly(java.util.Map.entry("iopf.abort-response", "FAILURE"));
        assertThat(s.devices()).containsExactly(
                new DeviceSpec("acc0", "00:03.0", "accelerator", true, true, 20, 32, 64));
        assertThat(s.processes()).containsExactly(
                new ProcessSpec("app", List.of(new VmaSpec(0x7f0000000000L, 64 * 1024, "rw"))));
        assertThat(s.source()).isEqualTo(dir.resolve("scenario.yaml"));
    }

    @Test
    void load_contractExample_bindsStepsWithLocations() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE);
        Path file = dir.resolve("scenario.yaml");

        assertThat(s.steps()).containsExactly(
                new SvaBind("acc0", "app", null, new SourceLocation(file, 22, 5)),
                new Dma("acc0", 0x7f0000000000L, 8192, "write", "app", false, null, new SourceLocation(file, 23, 5)),
                new Run(null, null, new SourceLocation(file, 24, 5)));
        assertThat(s.steps()).extracting(Step::kind).containsExactly("sva-bind", "dma", "run");
    }

    @Test
    void load_contractExample_bindsExpectationsWithDescriptions() throws Exception {
        Scenario s = files.load(ScenarioFiles.CONTRACT_EXAMPLE);

        assertThat(s.expectations()).extracting(Expectation::describe)
                .containsExactly("page-response acc0 SUCCESS x2", "dma acc0 ok");
        assertThat(s.expectations()).extracting(e -> e.location().line()).containsExactly(26, 27);
    }

    @Test
    void load_minimalFile_appliesDefaults() throws Exception {
        Scenario s = files.load("""
                name: minimal
                hardware: { model: smmuv3 }
                devices:
                  - { name: dev0, bdf: "01:00.1" }
                """);

        assertThat(s.seed()).isEqualTo(Scenario.DEFAULT_SEED);
        assertThat(s.description()).isEmpty();
        assertThat(s.hardware().options()).isEmpty();
        assertThat(s.policies()).isEmpty();
        assertThat(s.devices()).containsExactly(new DeviceSpec("dev0", "01:00.1", "generic", false, false, 0, 32, 64));
        assertThat(s.devices().get(0).rid()).isEqualTo(0x101);
        assertThat(s.processes()).isEmpty();
        assertThat(s.steps()).isEmpty();
        assertThat(s.expectations()).isEmpty();
    }

    @Test
    void load_everyStepKind_bindsTheRightRecords() throws Exception {
        Scenario s = files.load(ScenarioFiles.HEAD + """
                steps:
                  - attach: { device: acc0, domain: dma }
                  - map: { device: acc0, iova: 0x10000, size: 2MiB, prot: rw }
                  - unmap: { device: acc0, iova: 0x10000, size: 4KiB }
                  - page-request: { device: acc0, grpid: 3, addr: 0x1000, access: read, last: true, pasid: 5 }
                  - stop-marker: { device: acc0, process: app }
                  - mmap: { process: app, start: 0x100000, size: 1MiB }
                  - mprotect: { process: app, start: 0x100000, size: 4KiB, prot: r }
                  - munmap: { process: app, start: 0x100000, size: 4KiB }
                  - fail-allocations: { site: iopf-group, count: 2 }
                  - flr: { device: acc0 }
                  - remove-device: { device: acc0 }
                  - sva-unbind: { device: acc0, process: app }
                  - exit-process: { process: app }
                  - at: 3ms
                    run: { for: 10us }
                """);

        assertThat(s.steps()).extracting(Step::getClass).containsExactly(Attach.class, MapStep.class,
                UnmapStep.class, PageRequest.class, StopMarker.class, Mmap.class, Mprotect.class, Munmap.class,
                FailAllocations.class, Flr.class, RemoveDevice.class, SvaUnbind.class, ExitProcess.class, Run.class);
        assertThat(s.steps().get(1)).isEqualTo(new MapStep("acc0", 0x10000, 2 << 20, "rw", null,
                new SourceLocation(dir.resolve("scenario.yaml"), 12, 5)));
        assertThat(s.steps().get(3)).isEqualTo(new PageRequest("acc0", 3, 0x1000, "read", true, 5, null, false,
                null, new SourceLocation(dir.resolve("scenario.yaml"), 14, 5)));
        assertThat(((Mmap) s.steps().get(5)).prot()).isEqualTo("rw");
        assertThat(s.steps().get(13)).isEqualTo(new Run(10_000L, 3_000_000L,
                new SourceLocation(dir.resolve("scenario.yaml"), 25, 5)));
    }

    @Test
    void load_atInsideArguments_setsStepTime() throws Exception {
        Scenario s = files.load(ScenarioFiles.HEAD + """
                steps:
                  - flr: { device: acc0, at: 250 }
                  - { at: 2us, run: idle }
                """);

        assertThat(s.steps()).extracting(Step::atNs).containsExactly(250L, 2_000L);
    }

    @Test
    void load_everyExpectationKind_describesEach() throws Exception {
        Scenario s = files.load(ScenarioFiles.HEAD + """
                expect:
                  - page-response: { device: acc0, code: FAILURE, origin: abort, grpid: 0, pasid: 1, count: 1 }
                  - dma: { device: acc0, status: pri-failed, count: 3 }
                  - fault-record: { device: acc0, reason: TRANSLATION_NOT_PRESENT, recorded: false }
                  - device: { name: acc0, pri-enabled: false, pri-response-failure: true }
                  - log: { contains: "DMAR: DRHD" }
                """);

        assertThat(s.expectations()).extracting(Expectation::describe).containsExactly(
                "page-response acc0 FAILURE origin=abort grpid=0 pasid=1 x1",
                "dma acc0 pri-failed x3",
                "fault-record acc0 TRANSLATION_NOT_PRESENT recorded=false",
                "device acc0 pri-enabled=false pri-response-failure=true",
                "log contains \"DMAR: DRHD\"");
    }

    @Test
    void load_hardwareOptions_typesValues() throws Exception {
        Scenario s = files.load("""
                name: t
                hardware:
                  model: riscv
                  options: { queue-size: 4KiB, overflow: drop-new, msi: true, base: 0x1000 }
                """);

        assertThat(s.hardware().options()).containsExactly(java.util.Map.entry("queue-size", 4096L),
                java.util.Map.entry("overflow", "drop-new"), java.util.Map.entry("msi", true),
                java.util.Map.entry("base", 4096L));
    }

    @Test
    void load_sameFileTwice_givesEqualScenarios() throws Exception {
        assertThat(files.load(ScenarioFiles.CONTRACT_EXAMPLE)).isEqualTo(files.load(ScenarioFiles.CONTRACT_EXAMPLE));
    }
}
