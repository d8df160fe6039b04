package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.TestMachines;
import dev.iommulab.lab.run.RunResult;
import dev.iommulab.lab.run.ScenarioRunner;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every layer is a Guice module, so one can be swapped for another implementation while the rest runs (DESIGN.md
 * §1): io-pgfault is replaced through its interface {@link IoPgfault} by a plain class, no mocking library.
 */
class LayerOverrideTest {

    /** One report as the driver made it. */
    record Report(Device dev, IommuFault fault) {
    }

    /** An io-pgfault that accepts every report, keeps it, and never answers; it hands out no queue. */
    static final class RecordingIoPgfault implements IoPgfault {

        final List<Report> reports = new ArrayList<>();
        final List<String> queueCalls = new ArrayList<>();

        @Override
        public KernelVersion kernel() {
            return KernelVersion.LATEST;
        }

        @Override
        public IopfQueue queueAlloc(String name) {
            queueCalls.add("alloc " + name);
            return null;
        }

        @Override
        public void queueAddDevice(IopfQueue queue, Device dev) {
            queueCalls.add("add " + dev.name());
        }

        @Override
        public void queueRemoveDevice(IopfQueue queue, Device dev) {
            queueCalls.add("remove " + dev.name());
        }

        @Override
        public void queueFlushDev(Device dev, Runnable whenFlushed) {
            whenFlushed.run();
        }

        @Override
        public void queueDiscardPartial(IopfQueue queue) {
        }

        @Override
        public void queueFree(IopfQueue queue) {
        }

        @Override
        public int reportDeviceFault(Device dev, IommuFault evt) {
            reports.add(new Report(dev, evt));
            return 0;
        }

        @Override
        public void groupResponse(IopfGroup group, PageResponseCode code) {
            throw new AssertionError("no group was ever handed out");
        }

        @Override
        public void groupResponse(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
            throw new AssertionError("no group was ever handed out");
        }

        @Override
        public boolean groupOwed(IopfGroup group) {
            return false;
        }

        @Override
        public void freeGroup(IopfGroup group) {
            throw new AssertionError("no group was ever handed out");
        }
    }

    /**
     * The second example of docs/embedded-machine.md. With io-pgfault replaced by one that accepts every report, the hardware, driver and SVA layers still run: the
     * driver puts the device on its queue, the VT-d PRQ thread reports the first page request with the fields of its
     * descriptor, and since nobody answers, the device waits and the DMA stays pending.
     */
    @Test
    void build_iopfLayerReplaced_restOfStackStillReportsFaults() throws Exception {
        RecordingIoPgfault iopf = new RecordingIoPgfault();       // implements IoPgfault, records each report
        Machine m = Machine.builder()
                .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20))
                .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw"))
                .override(binder -> binder.bind(IoPgfault.class).toInstance(iopf))
                .build();

        int pasid = m.svaBind("acc0", "app").pasid();
        Object outcome = m.runDma("acc0", new DmaJob(TestMachines.APP_BASE, 8192, Access.WRITE, pasid, false,
                new byte[8192]));

        assertThat(iopf.queueCalls).containsExactly("alloc dmar0-iopfq", "add acc0");
        assertThat(iopf.reports).singleElement().satisfies(r -> {
            assertThat(r.dev()).isSameAs(m.device("acc0"));
            IommuFault f = r.fault();
            assertThat(f.lastPage() && f.pasidValid() && f.hasPerm(IommuFault.PERM_WRITE)).isTrue();
            assertThat(f.pasid()).isEqualTo(1);
            assertThat(f.grpid()).isZero();
            assertThat(f.addr()).isEqualTo(TestMachines.APP_BASE);
        });
        assertThat(outcome).as("nobody answered").isNull();
        assertThat(m.iopf().pendingGroups(m.device("acc0"))).as("the lab's io-pgfault saw nothing").isZero();
    }

    /** The scenario path takes the same override: quickstart.yaml runs with nobody answering and fails. */
    @Test
    void run_iopfLayerReplacedUnderScenario_dmaPendingAndNoResponse() throws Exception {
        RecordingIoPgfault iopf = new RecordingIoPgfault();

        RunResult r = new ScenarioRunner().run(new ScenarioLoader().load(
                ScenarioFiles.SCENARIOS.resolve("quickstart.yaml")),
                binder -> binder.bind(IoPgfault.class).toInstance(iopf));

        assertThat(iopf.reports).hasSize(1);
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("pending");
        assertThat(r.pageResponses()).isEmpty();
        assertThat(r.outcome()).isEqualTo("fail");
    }
}
