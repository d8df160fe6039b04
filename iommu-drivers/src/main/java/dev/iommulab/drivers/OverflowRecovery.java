package dev.iommulab.drivers;

import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import java.util.Collection;

/**
 * Policy {@code iopf.overflow-recovery}: what a driver does once a page-request queue overflow has been
 * cleared (the ring is empty again; VT-d PRO, RISC-V {@code pqof}). Requests were dropped while it
 * overflowed, so groups whose last request was lost (answered by the hardware itself) will never complete.
 */
public interface OverflowRecovery {

    /**
     * Called by the driver's page-request thread after the overflow condition was seen with an empty ring.
     *
     * @param iopf      io-pgfault
     * @param queue     the IOMMU's iopf queue
     * @param endpoints every PCI function behind that IOMMU
     * @param log       the kernel log
     */
    void recover(IoPgfault iopf, IopfQueue queue, Collection<PcieEndpoint> endpoints, KernelLog log);

    /** {@code discard-partials}: iopf_queue_discard_partial() (VT-d's prq_event_thread(); the default). */
    OverflowRecovery DISCARD_PARTIALS = (iopf, queue, endpoints, log) -> iopf.queueDiscardPartial(queue);

    /** {@code none}: nothing (AMD's PPR log overflow handling); parked partials stay until device removal. */
    OverflowRecovery NONE = (iopf, queue, endpoints, log) -> { };

    /**
     * {@code reset-devices}: discards the partials, then resets every function behind the IOMMU (FLR: its
     * outstanding page requests are forgotten) and restores what software had enabled, as
     * pci_restore_ats_state(), pci_restore_pasid_state() and pci_restore_pri_state() do after a reset
     * ({@link dev.iommulab.core.kernel.PciReset#resetFunction}); each is logged
     * {@code "pci 0000:00:04.0: resetting after page request overflow"}.
     */
    OverflowRecovery RESET_DEVICES = (iopf, queue, endpoints, log) -> {
        iopf.queueDiscardPartial(queue);
        FunctionReset.resetAll(endpoints, log, "page request overflow");
    };
}
