package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.RecordingTraceSink;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.TestMachines;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MachineBuilder}: a whole stack without a scenario file, the same machine a scenario's spec describes, with
 * the spec's defaults and its configuration errors. The first test is the example of docs/embedded-machine.md.
 */
class MachineBuilderTest {

    /** The example of docs/embedded-machine.md, word for word. */
    @Test
    void build_svaAcceleratorAndProcess_firstTouchDmaServedThroughPri() throws Exception {
        Machine m = Machine.builder()
                .hardware("vtd")
                .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20))
                .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw"))
                .policy("iopf.abort-response", "INVALID")
                .build();

        int pasid = m.svaBind("acc0", "app").pasid();
        DmaOutcome dma = m.runDma("acc0", new DmaJob(0x7f0000000000L, 8192, Access.WRITE, pasid, false,
                new byte[8192]));

        assertThat(dma.status()).isEqualTo(DmaStatus.OK);
        assertThat(m.process("app").handledFaults()).as("one page request per page").isEqualTo(2);
        assertThat(m.iopf().policies().abort().code()).isEqualTo(PageResponseCode.INVALID);
        assertThat(m.endpoint("acc0").priState().creditsInUse()).isZero();
    }

    /** The quickstart spec built in Java and the quickstart file booted do the same thing, event for event. */
    @Test
    void build_specOfScenarioFile_sameTraceAsBootedScenario() throws Exception {
        Machine built = TestMachines.quickstart().build();
        Machine booted = Machine.boot(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml")));

        assertThat(firstTouch(built)).isEqualTo(firstTouch(booted)).isNotEmpty();
        assertThat(built.log().lines()).isEqualTo(booted.log().lines());
    }

    private static List<String> firstTouch(Machine m) {
        RecordingTraceSink trace = new RecordingTraceSink();
        m.loop().trace().addSink(trace);
        int pasid = m.svaBind("acc0", "app").pasid();
        m.runDma("acc0", new DmaJob(TestMachines.APP_BASE, 8192, Access.WRITE, pasid, false, new byte[8192]));
        return trace.events().stream().map(Object::toString).toList();
    }

    @Test
    void build_nothingChosen_scenarioFileDefaults() throws Exception {
        Machine m = Machine.builder().device("nic0", "00:04.0").build();

        assertThat(m.hardware()).isInstanceOf(VtdUnit.class);
        assertThat(m.iopf().kernel()).isEqualTo(KernelVersion.LATEST);
        assertThat(m.endpoint("nic0").config().ats()).isFalse();
        assertThat(m.endpoint("nic0").config().priCapacity()).isEqualTo(32);
        assertThat(m.processes()).isEmpty();
        assertThat(m.loop().now()).isZero();
    }

    @Test
    void device_sameNameOrBdfTwice_refused() {
        MachineBuilder b = Machine.builder().device("acc0", "00:03.0");

        assertThatThrownBy(() -> b.device("acc0", "00:04.0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate device name acc0");
        assertThatThrownBy(() -> b.device("acc1", "00:03.0")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate device rid");
        assertThatThrownBy(() -> b.device("acc2", "00:05.0", d -> d.pri()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pri requires ats");
    }

    @Test
    void process_sameNameTwiceOrOverlappingVmas_refused() {
        MachineBuilder b = Machine.builder().process("app", p -> p.vma(0x1000, 0x1000, "r"));

        assertThatThrownBy(() -> b.process("app", p -> { })).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate process name app");
        assertThatThrownBy(() -> b.process("vmm", p -> p.vma(0x1000, 0x2000, "rw").vma(0x2000, 0x1000, "r")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlaps");
    }

    @Test
    void check_unknownModelOptionKernelOrPolicy_errorNamesTheScenarioKey() {
        assertThat(configError(Machine.builder().hardware("smmuv3")).key()).isEqualTo("hardware.model");
        assertThat(configError(Machine.builder().hardwareOption("prq-entries", "lots")).key())
                .isEqualTo("hardware.options.prq-entries");
        assertThat(configError(Machine.builder().kernel("v5.0")).key()).isEqualTo("kernel");
        assertThat(configError(Machine.builder().policy("iopf.abort-response", "MAYBE")).key())
                .isEqualTo("policies.iopf.abort-response");
    }

    private static MachineConfigException configError(MachineBuilder builder) {
        MachineConfigException checked = catchThrowableOfType(MachineConfigException.class, builder::check);
        MachineConfigException built = catchThrowableOfType(MachineConfigException.class, builder::build);
        assertThat(built).hasMessage(checked.getMessage());
        return checked;
    }

    @Test
    void svaBindAndRunDma_unknownNames_refused() throws Exception {
        Machine m = TestMachines.quickstart().build();

        assertThatThrownBy(() -> m.svaBind("acc9", "app")).hasMessage("no device acc9");
        assertThatThrownBy(() -> m.svaBind("acc0", "init")).hasMessage("no process init");
        assertThatThrownBy(() -> m.runDma("acc9", new DmaJob(0, 4096, Access.READ, -1, false, null)))
                .hasMessage("no device acc9");
    }
}
