package dev.iommulab.drivers;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;

/**
 * IOPF for fault-capable attachments, counted per device ({@link DriverDeviceInfo#iopfRefcount()}): the first one
 * adds the device to the IOMMU's iopf queue and enables its PRI, the last one disables PRI and removes the device,
 * as the VT-d driver does it (intel/iommu.c, intel/iommu.h); the lab's RISC-V driver, whose mainline has no IOPF,
 * does it the same way. One per IOMMU.
 */
public final class IopfRefcount {

    private final IoPgfault iopf;
    private final IopfQueue queue;
    private final int priAllocation;

    /**
     * @param queue         the IOMMU's iopf queue (a driver whose IOMMU has no page request queue has no function
     *                      with {@link DriverDeviceInfo#priSupported()}, so it is never used)
     * @param priAllocation the PRI allocation each device gets (the page request queue's depth, like the kernel's
     *                      PRQ_DEPTH)
     */
    public IopfRefcount(IoPgfault iopf, IopfQueue queue, int priAllocation) {
        this.iopf = iopf;
        this.queue = queue;
        this.priAllocation = priAllocation;
    }

    /**
     * Counterpart of intel_iommu_enable_iopf(): a device without PRI cannot take page faults through the IOMMU
     * (ENODEV, the kernel's {@code !info->pri_enabled}); otherwise the first fault-capable attachment adds the device
     * to the unit's iopf queue and enables PRI with an allocation of the queue's depth (the lab enables PRI here
     * rather than at probe, see docs/hardware-models.md), later ones only count. A failure leaves the count as it
     * was.
     *
     * @throws KernelException ENODEV without PRI; what iopf_queue_add_device() reports
     */
    public void enable(DriverDeviceInfo<?> info) {
        if (!info.priSupported()) {
            throw new KernelException(Errno.ENODEV, "dev", info.dev() + " has no PRI for I/O page faults");
        }
        if (info.iopfRefcount > 0) {
            info.iopfRefcount++;
            return;
        }
        iopf.queueAddDevice(queue, info.dev());
        info.pci().enablePri(priAllocation);
        info.iopfRefcount = 1;
    }

    /**
     * Counterpart of intel_iommu_disable_iopf(): the last fault-capable attachment disables PRI, then removes the
     * device from the iopf queue ({@code iopf_queue_remove_device()}: partials freed, every pending group answered
     * INVALID). Without PRI or a reference it does nothing (the kernel WARNs).
     */
    public void disable(DriverDeviceInfo<?> info) {
        if (!info.priSupported() || info.iopfRefcount == 0) {
            return;
        }
        if (--info.iopfRefcount > 0) {
            return;
        }
        info.pci().disablePri();
        iopf.queueRemoveDevice(queue, info.dev());
    }

    /** iopf_for_domain_set() (intel/iommu.h): IOPF for a fault-capable domain ({@code iopf_handler} set). */
    public void forDomainSet(IommuDomain domain, DriverDeviceInfo<?> info) {
        if (domain != null && domain.iopfHandler() != null) {
            enable(info);
        }
    }

    /** iopf_for_domain_remove() (intel/iommu.h): drops the IOPF reference a fault-capable domain held. */
    public void forDomainRemove(IommuDomain domain, DriverDeviceInfo<?> info) {
        if (domain != null && domain.iopfHandler() != null) {
            disable(info);
        }
    }
}
