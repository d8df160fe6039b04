package dev.iommulab.core.fault;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.PciReset;
import dev.iommulab.core.kernel.Workqueue;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pci.PriState;
import java.util.Objects;

/**
 * Ready-made {@link IommuFaultHandler}s for the three things the kernel's users of
 * {@code iommu_set_fault_handler()} do, to install with {@link LegacyFaultReporting#setFaultHandler}:
 * <ul>
 *   <li>{@link #print}: log the fault, rate-limited, and call it handled (msm's {@code msm_fault_handler()};
 *       the text is the "Unhandled context fault" message arm-smmu and qcom_iommu print themselves);</li>
 *   <li>{@link #resetDevice}: log it and recover the device by resetting it, later, from a workqueue
 *       (remoteproc's {@code rproc_iommu_fault()} with {@code rproc_report_crash()}); -ENOSYS;</li>
 *   <li>{@link #dumpDeviceState}: log the device's state for a post-mortem (adreno's
 *       {@code adreno_fault_handler()} capturing the GPU state): PRI, ATS/ATC, outstanding tags.</li>
 * </ul>
 * Lines go out as {@code dev_err()} does for a PCI function: {@code "pci 0000:00:04.0: ..."} ({@code
 * "(NULL device *): ..."} when the IOMMU driver passed no device, as arm-smmu does). The rate-limit states are
 * the call sites {@code iommu_fault_print_handler} and {@code iommu_fault_dump_handler}; these names, and the
 * texts of the reset and dump lines, are the lab's (the kernel's users print their own device-specific text).
 */
public final class IommuFaultHandlers {

    private IommuFaultHandlers() {
    }

    /**
     * The print pattern: {@code dev_err_ratelimited(dev, "Unhandled context fault: iova=0x%08lx, flags=0x%x")}
     * (burst 10 per 5 s, then "iommu_fault_print_handler: N callbacks suppressed"); returns 0, so the IOMMU
     * driver does not print its own message.
     */
    public static IommuFaultHandler print(KernelLog log) {
        Objects.requireNonNull(log, "log");
        return (domain, dev, iova, flags, token) -> {
            if (log.ratelimitState("iommu_fault_print_handler").allow()) {
                log.err("%s: Unhandled context fault: iova=0x%08x, flags=0x%x", devName(dev), iova, flags);
            }
            return 0;
        };
    }

    /**
     * The reset pattern, as remoteproc recovers: {@code dev_err(dev, "iommu fault: da 0x%lx flags 0x%x")}, then
     * the recovery work is queued on {@code wq} (not run in the interrupt: a reset sleeps); a fault while it is
     * still queued does not queue it again ({@code queue_work()} of a pending work item). The work logs
     * "recovering after IOMMU fault" and resets the function through the PCI layer ({@link PciReset#resetFunction}:
     * FLR, then PASID, PRI with its allocation and ATS restored as software had them). Returns -ENOSYS, "we just
     * used it as a recovery trigger", so an IOMMU driver that prints on -ENOSYS still prints.
     */
    public static IommuFaultHandler resetDevice(PcieEndpoint ep, KernelLog log, Workqueue wq) {
        Objects.requireNonNull(ep, "ep");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(wq, "wq");
        boolean[] pending = {false};
        return (domain, dev, iova, flags, token) -> {
            log.err("%s: iommu fault: da 0x%x flags 0x%x", devName(dev), iova, flags);
            if (!pending[0]) {
                pending[0] = true;
                wq.queueWork("iommu-fault-recovery", () -> {
                    pending[0] = false;
                    log.err("%s: recovering after IOMMU fault: function level reset", pciName(ep));
                    PciReset.resetFunction(ep);
                });
            }
            return Errno.ENOSYS.negative();
        };
    }

    /**
     * The dump pattern: rate-limited (one dump per allowed call of call site {@code iommu_fault_dump_handler}),
     * four lines — the fault, then the function's PRI state (Enable, RF, UPRGI, Stopped, allocation, requests
     * outstanding), ATS and ATC occupancy, and the read/translation tags outstanding; returns 0.
     */
    public static IommuFaultHandler dumpDeviceState(PcieEndpoint ep, KernelLog log) {
        Objects.requireNonNull(ep, "ep");
        Objects.requireNonNull(log, "log");
        return (domain, dev, iova, flags, token) -> {
            if (!log.ratelimitState("iommu_fault_dump_handler").allow()) {
                return 0;
            }
            String name = devName(dev);
            PriState pri = ep.priState();
            log.err("%s: IOMMU fault: iova 0x%x flags 0x%x (%s), device state:", name, iova, flags,
                    (flags & LegacyFaultReporting.IOMMU_FAULT_WRITE) != 0 ? "write" : "read");
            log.err("%s:   PRI: enabled %d RF %d UPRGI %d stopped %d, allocation %d, requests outstanding %d", name,
                    bit(pri.enabled()), bit(pri.responseFailure()), bit(pri.unexpectedPrgIndex()), bit(pri.stopped()),
                    pri.allocation(), pri.creditsInUse());
            log.err("%s:   ATS: enabled %d, ATC %d of %d entries in use", name, bit(ep.atsEnabled()),
                    ep.atcEntriesInUse(), ep.config().atcEntries());
            log.err("%s:   tags outstanding: %d", name, ep.outstandingReadTags());
            return 0;
        };
    }

    private static int bit(boolean b) {
        return b ? 1 : 0;
    }

    /** dev_driver_string + dev_name as dev_err() prints them, or "(NULL device *)". */
    private static String devName(Device dev) {
        return dev == null ? "(NULL device *)" : "pci " + dev.pciName();
    }

    private static String pciName(PcieEndpoint ep) {
        return "pci " + Device.pciName(ep.rid());
    }
}
