package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.RecordingTraceSink;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The fault-queue thread, riscv_iommu_fltq_process() in drivers/iommu/riscv/iommu.c, after it cleared
 * {@code fqof}, under the policy {@code fault.overflow-recovery} (reference/iommu-hardware.md §2.4.2: while
 * {@code fqof} is set every record is discarded, of any device; reference/linux-fault-stack.md §6.4: the kernel
 * only logs and clears), and with the lab's invented per-device fault quota ({@code fault-quota}).
 */
class RiscvFaultOverflowRecoveryTest {

    private static final String PREFIX = "riscv,iommu riscv-iommu0: ";

    private final RecordingTraceSink trace = new RecordingTraceSink();

    /**
     * A machine whose fault queue holds {@code fqEntries - 1} records, with the accelerator acc0 (03:00.0)
     * holding 3 PRI credits for parked partials, and the plain functions nvme0 (05:00.0) and nic1 (06:00.0).
     */
    private RiscvIommuFixture machine(RiscvConfig config, int fqEntries, FaultOverflowRecovery recovery) {
        RiscvIommuFixture f = new RiscvIommuFixture(config, new RiscvIommuDriver.QueueSizes(fqEntries, 4096),
                EndpointOptions.DEFAULTS, OverflowRecovery.DISCARD_PARTIALS, recovery).attach();
        f.loop.trace().addSink(trace);
        f.send(request(1, true, false, false, VA), request(1, true, false, false, VA + 0x1000),
                request(1, true, false, false, VA + 0x2000));
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(3);
        return f;
    }

    private List<String> flrs() {
        return trace.steps().stream().filter(s -> s.symbol().equals("pci-flr")).map(TraceEvent.Step::message).toList();
    }

    private List<String> resetLines(RiscvIommuFixture f) {
        return f.logTexts().stream().filter(t -> t.contains("resetting")).toList();
    }

    /**
     * none (the kernel's behaviour): an NVMe storm overflows a one-record queue; the thread logs the record and
     * clears fqof with its warning, and nothing else happens: acc0 keeps its credits, no function is reset.
     */
    @Test
    void fltqProcess_overflowUnderNone_onlyLogsAndClears() {
        RiscvIommuFixture f = machine(RiscvConfig.defaults("riscv-iommu0"), 2, FaultOverflowRecovery.NONE);
        PcieEndpoint nvme = f.probePlain("nvme0", 0x0500, DeviceProfile.NVME, 0);

        assertThat(f.read(nvme, 0x10_0000, 4096).status()).isEqualTo(DmaStatus.UR);

        assertThat(f.warnTexts()).contains(PREFIX + "Queue #1 error; memory fault:0 overflow:1");
        assertThat(f.hw.readReg(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isZero();
        assertThat(resetLines(f)).isEmpty();
        assertThat(flrs()).isEmpty();
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(3);
    }

    /**
     * reset-devices: after clearing fqof the thread resets every function behind the IOMMU, in requester-ID
     * order, each announced in the PCI core's format ("pci 0000:05:00.0: ..."), also nic1, which did not fault,
     * and acc0, whose PRI credits are free again with PRI, ATS and PASID restored (pci_reset_function()).
     */
    @Test
    void fltqProcess_overflowUnderResetDevices_everyFunctionResetAndRestored() {
        RiscvIommuFixture f = machine(RiscvConfig.defaults("riscv-iommu0"), 2, FaultOverflowRecovery.RESET_DEVICES);
        PcieEndpoint nvme = f.probePlain("nvme0", 0x0500, DeviceProfile.NVME, 0);
        f.probePlain("nic1", 0x0600, DeviceProfile.NIC, 0);

        assertThat(f.read(nvme, 0x10_0000, 4096).status()).isEqualTo(DmaStatus.UR);

        assertThat(resetLines(f)).containsExactly("pci 0000:03:00.0: resetting after fault record overflow",
                "pci 0000:05:00.0: resetting after fault record overflow",
                "pci 0000:06:00.0: resetting after fault record overflow");
        assertThat(f.logTexts()).containsSubsequence(PREFIX + "Queue #1 error; memory fault:0 overflow:1",
                "pci 0000:03:00.0: resetting after fault record overflow");
        assertThat(flrs()).containsExactly("acc0 Function Level Reset", "nvme0 Function Level Reset",
                "nic1 Function Level Reset");
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.endpoint.atsEnabled()).isTrue();
        assertThat(f.endpoint.pasidEnabled()).isTrue();
    }

    /** reset-devices acts on lost records only: a fault that is recorded resets nothing. */
    @Test
    void fltqProcess_recordedFaultUnderResetDevices_noReset() {
        RiscvIommuFixture f = machine(RiscvConfig.defaults("riscv-iommu0"), 16, FaultOverflowRecovery.RESET_DEVICES);
        PcieEndpoint nic = f.probePlain("nic1", 0x0600, DeviceProfile.NIC, 0);

        f.read(nic, 0x20_0000, 64);

        assertThat(f.warnTexts()).containsExactly(PREFIX + "Fault 258 devid: 0x600 iotval: 200000 iotval2: 0");
        assertThat(resetLines(f)).isEmpty();
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(3);
    }

    /**
     * fault-quota 1 on a 3-record queue: nvme0's storm takes one slot and its 7 other faults are counted in that
     * record; nic1's fault is recorded and logged; the queue never overflows, so reset-devices resets nothing.
     * The kernel's line for the coalescing record is unchanged (it does not read the custom field); the count
     * goes to the trace.
     */
    @Test
    void fltqProcess_faultQuota_stormCoalescedOtherDeviceLoggedNoOverflow() {
        RiscvIommuFixture f = machine(RiscvConfig.defaults("riscv-iommu0").withFaultQuota(1), 4,
                FaultOverflowRecovery.RESET_DEVICES);
        PcieEndpoint nvme = f.probePlain("nvme0", 0x0500, DeviceProfile.NVME, 0);
        PcieEndpoint nic = f.probePlain("nic1", 0x0600, DeviceProfile.NIC, 0);
        List<DmaStatus> out = new ArrayList<>();
        nvme.startDma(new DmaJob(0x10_0000, 4096, Access.READ, -1, false,
                null), o -> out.add(o.status()));
        nic.startDma(new DmaJob(0x20_0000, 64, Access.READ, -1, false,
                null), o -> out.add(o.status()));
        f.loop.runUntilIdle();

        assertThat(out).containsExactly(DmaStatus.UR, DmaStatus.UR);
        assertThat(f.hwFaults).filteredOn(h -> h.rid() == 0x0500).extracting(HwFault::recorded, HwFault::coalesced)
                .containsExactly(tuple(true, false), tuple(false, true), tuple(false, true), tuple(false, true),
                        tuple(false, true), tuple(false, true), tuple(false, true), tuple(false, true));
        assertThat(f.warnTexts()).containsExactly(PREFIX + "Fault 258 devid: 0x500 iotval: 100000 iotval2: 0",
                PREFIX + "Fault 258 devid: 0x600 iotval: 200000 iotval2: 0");
        assertThat(trace.steps()).anyMatch(s -> s.symbol().equals("riscv_iommu_fault")
                && s.message().contains("devid 0x500 cause 258 counts 7 further fault(s)"));
        assertThat(resetLines(f)).isEmpty();
    }
}
