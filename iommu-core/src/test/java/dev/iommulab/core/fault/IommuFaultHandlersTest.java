package dev.iommulab.core.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.Workqueue;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pci.PriState;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The three patterns of the kernel's iommu_set_fault_handler() users, as ready-made handlers behind
 * report_iommu_fault(): print (msm_fault_handler(), arm-smmu's "Unhandled context fault" text), reset the device
 * (rproc_iommu_fault() + rproc_report_crash(), pci_reset_function()), dump the device state
 * (adreno_fault_handler()).
 */
class IommuFaultHandlersTest {

    private static final long SECOND = 1_000_000_000L;

    private final EventLoop loop = new EventLoop(1);
    private final KernelLog log = new KernelLog(loop);
    private final LegacyFaultReporting reporting = new LegacyFaultReporting(log, loop);
    private final IommuOps ops = mock(IommuOps.class);
    private final PcieEndpoint ep = new PcieEndpoint(new EndpointConfig("acc0", 0x0300, DeviceProfile.ACCELERATOR, true,
            true, 8, 32, 16, 4), loop, TimingModel.ESTIMATES);
    private final Device dev;
    private final IommuDomain domain;

    IommuFaultHandlersTest() {
        when(ops.name()).thenReturn("arm-smmu");
        dev = new IommuCore().probeDevice(ep, ops);
        domain = new IommuDomain(DomainType.UNMANAGED, ops, new IommuDomainOps() { }, null);
        ep.setPasidEnabled(true);
        ep.setAtsEnabled(true);
        ep.enablePri(32);
    }

    private List<String> texts() {
        return log.lines().stream().map(KernelLog.Line::text).toList();
    }

    private int reportAt(long atNs, long iova, int flags) {
        int[] ret = new int[1];
        loop.schedule(atNs - loop.now(), "fault", () -> ret[0] = reporting.reportIommuFault(domain, dev, iova, flags));
        loop.runUntilIdle();
        return ret[0];
    }

    /**
     * Print: dev_err_ratelimited(dev, "Unhandled context fault: iova=0x%08lx, flags=0x%x") and 0, so the
     * IOMMU driver prints nothing more; with no device (arm-smmu passes NULL) the prefix is "(NULL device *)".
     */
    @Test
    void print_fault_logsUnhandledContextFaultAndReturnsZero() {
        reporting.setFaultHandler(domain, IommuFaultHandlers.print(log), null);

        int ret = reporting.reportIommuFault(domain, dev, 0x1000, LegacyFaultReporting.IOMMU_FAULT_WRITE);
        reporting.reportIommuFault(domain, null, 0x1_2345_6000L, LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(ret).isZero();
        assertThat(texts()).containsExactly("pci 0000:03:00.0: Unhandled context fault: iova=0x00001000, flags=0x1",
                "(NULL device *): Unhandled context fault: iova=0x123456000, flags=0x0");
    }

    /**
     * Print, rate-limited as dev_err_ratelimited() is (10 per 5 s): a storm of 15 faults prints 10 lines; the
     * first fault more than 5 s later prints "iommu_fault_print_handler: 5 callbacks suppressed" first.
     */
    @Test
    void print_fifteenFaultsThenOneLater_tenLinesThenCallbacksSuppressed() {
        reporting.setFaultHandler(domain, IommuFaultHandlers.print(log), null);
        loop.schedule(0, "storm", () -> {
            for (int i = 0; i < 15; i++) {
                reporting.reportIommuFault(domain, dev, 0x1000L * i, LegacyFaultReporting.IOMMU_FAULT_READ);
            }
        });
        loop.runUntilIdle();

        assertThat(texts()).hasSize(10);

        reportAt(6 * SECOND, 0x9000, LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(texts()).hasSize(12).endsWith("iommu_fault_print_handler: 5 callbacks suppressed",
                "pci 0000:03:00.0: Unhandled context fault: iova=0x00009000, flags=0x0");
    }

    /**
     * Reset, as remoteproc recovers: the handler logs "iommu fault: da 0x%lx flags 0x%x", returns -ENOSYS (a
     * recovery trigger, not a fix) and queues the recovery; two faults before it runs queue it once. The work
     * resets the function (one FLR) and restores PASID, ATS and PRI with its allocation, as pci_reset_function()
     * and pci_restore_state() do.
     */
    @Test
    void resetDevice_twoFaults_oneFlrFromWorkqueueStateRestored() {
        List<String> flrs = new ArrayList<>();
        loop.trace().addSink(e -> {
            if (e instanceof TraceEvent.Step s && s.symbol().equals("pci-flr")) {
                flrs.add(s.message());
            }
        });
        Workqueue wq = new Workqueue("rproc_recovery_wq", loop, TimingModel.ESTIMATES.threadWakeNs());
        reporting.setFaultHandler(domain, IommuFaultHandlers.resetDevice(ep, log, wq), null);
        int[] rets = new int[2];

        loop.schedule(0, "faults", () -> {
            rets[0] = reporting.reportIommuFault(domain, dev, 0x4000, LegacyFaultReporting.IOMMU_FAULT_READ);
            rets[1] = reporting.reportIommuFault(domain, dev, 0x5000, LegacyFaultReporting.IOMMU_FAULT_WRITE);
            assertThat(flrs).isEmpty();
        });
        loop.runUntilIdle();

        assertThat(rets).containsOnly(Errno.ENOSYS.negative());
        assertThat(flrs).containsExactly("acc0 Function Level Reset");
        assertThat(texts()).containsExactly("pci 0000:03:00.0: iommu fault: da 0x4000 flags 0x0",
                "pci 0000:03:00.0: iommu fault: da 0x5000 flags 0x1",
                "pci 0000:03:00.0: recovering after IOMMU fault: function level reset");
        assertThat(ep.pasidEnabled()).isTrue();
        assertThat(ep.atsEnabled()).isTrue();
        assertThat(ep.priState()).isEqualTo(new PriState(true, false, false, false, 32, 0));
    }

    /** Reset: a fault after the recovery ran queues a new one. */
    @Test
    void resetDevice_faultAfterRecovery_resetsAgain() {
        List<String> flrs = new ArrayList<>();
        loop.trace().addSink(e -> {
            if (e instanceof TraceEvent.Step s && s.symbol().equals("pci-flr")) {
                flrs.add(s.message());
            }
        });
        Workqueue wq = new Workqueue("rproc_recovery_wq", loop, 1_000);
        reporting.setFaultHandler(domain, IommuFaultHandlers.resetDevice(ep, log, wq), null);

        reportAt(0, 0x4000, LegacyFaultReporting.IOMMU_FAULT_READ);
        reportAt(SECOND, 0x4000, LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(flrs).hasSize(2);
    }

    /**
     * Dump: the fault and the function's state — PRI (Enable, RF, UPRGI, Stopped, allocation, requests
     * outstanding), ATS and ATC occupancy, tags outstanding — and 0.
     */
    @Test
    void dumpDeviceState_fault_logsPriAtsAtcAndTags() {
        reporting.setFaultHandler(domain, IommuFaultHandlers.dumpDeviceState(ep, log), null);

        int ret = reporting.reportIommuFault(domain, dev, 0x7000, LegacyFaultReporting.IOMMU_FAULT_WRITE);

        assertThat(ret).isZero();
        assertThat(texts()).containsExactly(
                "pci 0000:03:00.0: IOMMU fault: iova 0x7000 flags 0x1 (write), device state:",
                "pci 0000:03:00.0:   PRI: enabled 1 RF 0 UPRGI 0 stopped 0, allocation 32, requests outstanding 0",
                "pci 0000:03:00.0:   ATS: enabled 1, ATC 0 of 16 entries in use",
                "pci 0000:03:00.0:   tags outstanding: 0");
    }
}
