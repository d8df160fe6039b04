package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.report.DeviceFaults;
import dev.iommulab.lab.report.TextReporter;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * scenarios/fault-queue-overflow.yaml (issue 5 item 7): a fault storm of nvme0 overflows the RISC-V fault queue
 * (riscv-iommu "Fault/Event-Queue (FQ)", reference/iommu-hardware.md §2.4.2: while fqof is set every record is
 * discarded), nic1's faults are lost while its DMAs still end UR, and the policy fault.overflow-recovery
 * reset-devices resets both functions after riscv_iommu_fltq_process() cleared fqof; with the invented
 * fault-quota nic1's first fault stays visible and nothing overflows.
 */
class FaultQueueOverflowScenarioTest {

    private static RunResult run(String... overrides) throws Exception {
        return new ScenarioRunner().run(new ScenarioLoader().load(
                ScenarioFiles.SCENARIOS.resolve("fault-queue-overflow.yaml"), List.of(overrides)));
    }

    private static List<String> resets(RunResult r) {
        return r.log().stream().filter(l -> l.contains("resetting after fault record overflow")).toList();
    }

    @Test
    void run_realQueue_nicFaultsLostAndBothFunctionsReset() throws Exception {
        RunResult r = run();

        assertThat(r.outcome()).as(new TextReporter().render(r)).isEqualTo("pass");
        assertThat(DeviceFaults.of(r)).containsExactly(new DeviceFaults("nvme0", 7, 0, 25, 500L),
                new DeviceFaults("nic1", 1, 0, 2, 7000L));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsOnly("ur");
        assertThat(resets(r)).hasSize(2);
        assertThat(r.journey()).filteredOn(s -> s.symbol().equals("pci-flr"))
                .extracting(s -> s.message()).containsExactly("nvme0 Function Level Reset", "nic1 Function Level Reset");
        assertThat(new TextReporter().render(r)).contains("nic1: 1 recorded, 0 coalesced, 2 lost; first recorded at 7.000 us");
    }

    @Test
    void run_defaultPolicy_overflowOnlyLoggedNothingReset() throws Exception {
        RunResult r = run("policies.fault.overflow-recovery=none");

        assertThat(r.log()).contains("[    0.000003] riscv,iommu riscv-iommu0: Queue #1 error; memory fault:0 overflow:1");
        assertThat(resets(r)).isEmpty();
        assertThat(r.journey()).noneMatch(s -> s.symbol().equals("pci-flr"));
    }

    @Test
    void run_faultQuotaTwo_nicFirstFaultRecordedAtOnceNoOverflowNoReset() throws Exception {
        RunResult r = run("hardware.options.fault-quota=2");

        assertThat(DeviceFaults.of(r)).containsExactly(new DeviceFaults("nvme0", 2, 30, 0, 500L),
                new DeviceFaults("nic1", 3, 0, 0, 500L));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsOnly("ur");
        assertThat(r.log()).noneMatch(l -> l.contains("overflow:1"));
        assertThat(resets(r)).isEmpty();
        assertThat(r.faultRecords()).filteredOn(RunResult.FaultRecordEntry::coalesced).hasSize(30)
                .allMatch(f -> f.device().equals("nvme0") && !f.recorded());
    }
}
