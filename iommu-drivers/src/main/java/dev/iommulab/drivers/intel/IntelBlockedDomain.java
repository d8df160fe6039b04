package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.DriverDomain;

/**
 * The unit's static BLOCKED domain ({@code blocking_domain} in intel/iommu.c): where it is set, the entry is torn
 * down. Its set_dev_pasid with {@code old} is how the core takes a PASID down, for SVA and other domains alike
 * (reference/linux-fault-stack.md §4.3).
 */
final class IntelBlockedDomain extends DriverDomain implements IntelDomain {

    private final IntelDomains domains;

    IntelBlockedDomain(IommuOps owner, IntelDomains domains) {
        super(DomainType.BLOCKED, owner);
        this.domains = domains;
    }

    /** None: a blocked entry is not present. */
    @Override
    public int did() {
        return 0;
    }

    /**
     * Counterpart of blocking_domain_attach_dev() / device_block_translation(): the IOPF reference of what the RID had
     * is dropped first (the last one removes the device from the iopf queue, answering its pending groups), then the
     * RID_PASID entry is torn down (drained only while IOPF stays on). A device with nothing attached since probe is
     * left alone.
     */
    @Override
    public void attachDev(IommuDomain blocked, Device dev) {
        DeviceInfo info = domains.unit().info(dev);
        IntelDomain old = info.ridDomain();
        if (old == null) {
            return;
        }
        tearDown(info, IommuCore.IOMMU_NO_PASID, old);
    }

    /** Attaching the blocked domain at a PASID where nothing was: refused (EINVAL), as for any foreign domain. */
    @Override
    public void setDevPasid(IommuDomain blocked, Device dev, int pasid) {
        DeviceInfo info = domains.unit().info(dev);
        if (!info.pci().pasidEnabled()) {
            throw new KernelException(Errno.EOPNOTSUPP, "dev", info.dev() + " has PASID disabled");
        }
        throw new KernelException(Errno.EINVAL, "domain", "BLOCKED domain not allocated by " + domains.unit().name());
    }

    /**
     * Counterpart of blocking_domain_set_dev_pasid(): first the IOPF reference {@code old} held (the last one removes
     * the device from the iopf queue, answering its pending groups), then intel_pasid_tear_down_entry(...,
     * fault_ignore = false), which drains only while another fault-capable attachment keeps IOPF on, then
     * domain_remove_dev_pasid() for {@code old}. Never fails.
     */
    @Override
    public void setDevPasid(IommuDomain blocked, Device dev, int pasid, IommuDomain old) {
        DeviceInfo info = domains.unit().info(dev);
        tearDown(info, pasid, info.attached(pasid, old));
    }

    private void tearDown(DeviceInfo info, int pasid, IntelDomain old) {
        domains.unit().iopfRefs().forDomainRemove(old.domain(), info);
        domains.teardown().tearDownEntry(info, pasid, false);
        old.unassignTag(info, pasid);
        info.setAttached(pasid, null);
    }
}
