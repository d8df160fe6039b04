package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;

/**
 * The PASID half of iommu.c: iommu_attach_device_pasid(), iommu_replace_device_pasid() and
 * iommu_detach_device_pasid() on the group's {@code pasid_array}. An entry is published only after the driver
 * programmed it, and stays as it was when the driver fails. The driver is reached through the domain's ops
 * ({@code domain->ops->set_dev_pasid}); a PASID is taken down by setting the driver's blocked domain there.
 */
final class PasidDomains {

    void attach(IommuDomain domain, Device dev, int pasid, AttachHandle handle) {
        IommuGroup group = checked(domain, dev, pasid);
        if (pasid >= dev.maxPasids()) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " outside [1, " + dev.maxPasids() + ")");
        }
        if (handle != null) {
            IommuCore.checkHandle(handle, domain);
        }
        if (group.slot(pasid) != null) {
            throw new KernelException(Errno.EBUSY, "pasid", pasid + " already attached on " + dev);
        }
        domain.ops().setDevPasid(domain, dev, pasid);
        group.setSlot(pasid, domain, handle);
    }

    void replace(IommuDomain domain, Device dev, int pasid, AttachHandle handle) {
        IommuGroup group = checked(domain, dev, pasid);
        IommuCore.checkHandle(handle, domain);
        IommuGroup.Slot current = group.slot(pasid);
        if (current == null) {
            throw new KernelException(Errno.EINVAL, "pasid", "nothing attached at " + pasid + " of " + dev);
        }
        if (current.handle() == handle) {
            throw new KernelException(Errno.EINVAL, "handle", "the handle at " + pasid + " cannot be reused");
        }
        if (current.domain() != domain) {
            domain.ops().setDevPasid(domain, dev, pasid, current.domain());
        }
        group.setSlot(pasid, domain, handle);
    }

    void detach(IommuDomain domain, Device dev, int pasid) {
        IommuGroup group = dev.group();
        IommuGroup.Slot current = group == null ? null : group.slot(pasid);
        if (current == null || current.domain() != domain || pasid == IommuCore.IOMMU_NO_PASID) {
            throw new KernelException(Errno.EINVAL, "domain", "not attached at PASID " + pasid + " of " + dev);
        }
        removeDevPasid(dev, pasid, domain);
        group.removeSlot(pasid);
    }

    /**
     * iommu_remove_dev_pasid(): the driver's blocked domain is set at {@code pasid} in place of {@code domain}
     * ({@code blocked_domain->ops->set_dev_pasid(blocked_domain, dev, pasid, domain)}), which must not fail.
     */
    private static void removeDevPasid(Device dev, int pasid, IommuDomain domain) {
        IommuDomain blocked = dev.ops().blockedDomain();
        blocked.ops().setDevPasid(blocked, dev, pasid, domain);
    }

    /** The checks both attach and replace start with: a group, a compatible domain, not IOMMU_NO_PASID. */
    private static IommuGroup checked(IommuDomain domain, Device dev, int pasid) {
        IommuGroup group = dev.group();
        if (group == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (pasid <= IommuCore.IOMMU_NO_PASID) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " is not a PASID (IOMMU_NO_PASID or negative)");
        }
        if (domain.owner() != dev.ops()) {
            throw new KernelException(Errno.EINVAL, "domain", "belongs to another IOMMU driver");
        }
        if (dev.ops().blockedDomain() == null) {
            throw new KernelException(Errno.EOPNOTSUPP, "dev", dev.ops().name() + " has no blocked domain to take a "
                    + "PASID down with");
        }
        return group;
    }
}
