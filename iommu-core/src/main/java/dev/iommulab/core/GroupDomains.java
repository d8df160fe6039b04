package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.List;

/**
 * The RID half of iommu.c: {@code group->domain} and how it changes — iommu_setup_default_domain(),
 * __iommu_attach_group(), __iommu_group_set_domain() with its revert on failure,
 * __iommu_group_set_core_domain(), __iommu_group_alloc_blocking_domain() and DMA ownership.
 */
final class GroupDomains {

    /** iommu_setup_default_domain() at probe, for the core's default domain {@code type}. */
    void setupDefaultDomain(IommuGroup group, Device dev, DomainType type) {
        if (type == DomainType.BLOCKED) {
            IommuDomain blocking = blockingDomain(group);
            if (blocking != null) {
                setDomain(group, blocking);
            }
            group.setOwner(IommuCore.LAB_OWNER, 1);
            return;
        }
        DomainType wanted = dev.ops().defDomainType(dev);
        DomainType actual = wanted != null ? wanted : type;
        IommuDomain d;
        if (actual == DomainType.IDENTITY) {
            d = dev.ops().identityDomain();
            if (d == null) {
                throw new KernelException(Errno.EOPNOTSUPP, "dev", dev.ops().name() + " has no identity domain");
            }
        } else {
            d = allocPaging(dev, DomainType.DMA, 0);
        }
        setDomain(group, d);
        group.setDefaultDomain(d);
    }

    /** __iommu_paging_domain_alloc_flags() and iommu_domain_init(). */
    static IommuDomain allocPaging(Device dev, DomainType type, int flags) {
        if (type == null || !type.isPaging()) {
            throw new KernelException(Errno.EINVAL, "type", type + " is not a paging domain type");
        }
        IommuDomain d = dev.ops().domainAllocPaging(dev, flags);
        if (d == null) {
            throw new KernelException(Errno.ENOMEM, "domain", dev.ops().name() + " returned no domain");
        }
        if (d.owner() != dev.ops() || d.pgsizeBitmap() == 0) {
            throw new IllegalStateException(dev.ops().name() + " returned " + d + " without its page table");
        }
        d.initType(type);
        return d;
    }

    /** domain_iommu_ops_compatible(): the domain belongs to the group's driver. */
    static void checkCompatible(IommuGroup group, IommuDomain domain) {
        Device dev = group.devices().get(0);
        if (domain.owner() != dev.ops()) {
            throw new KernelException(Errno.EINVAL, "domain", "belongs to another IOMMU driver than " + dev);
        }
    }

    /** __iommu_attach_group(). */
    void attachGroup(IommuDomain domain, IommuGroup group) {
        IommuDomain current = group.domain();
        if (current != null && current != group.defaultDomain() && current != group.blockingDomain()) {
            throw new KernelException(Errno.EBUSY, "dev", group + " RID already attached to " + current);
        }
        checkCompatible(group, domain);
        setDomain(group, domain);
    }

    /**
     * __iommu_group_set_domain(): attach_dev for every device of the group; if one fails, the devices already
     * switched go back to the old domain and the error propagates, {@code group->domain} unchanged.
     */
    void setDomain(IommuGroup group, IommuDomain newDomain) {
        IommuDomain old = group.domain();
        if (old == newDomain) {
            return;
        }
        List<Device> devs = group.devices();
        for (int i = 0; i < devs.size(); i++) {
            try {
                newDomain.ops().attachDev(newDomain, devs.get(i));
            } catch (KernelException e) {
                for (int j = 0; j < i && old != null; j++) {
                    old.ops().attachDev(old, devs.get(j));
                }
                throw e;
            }
        }
        group.setDomain(newDomain);
    }

    /**
     * __iommu_group_set_core_domain(): the blocking domain when the group's DMA is owned, else the default
     * domain. A driver with neither leaves the group without a domain (the kernel WARNs).
     */
    void setCoreDomain(IommuGroup group) {
        IommuDomain target = group.dmaOwner() != null ? blockingDomain(group) : group.defaultDomain();
        if (target == null) {
            group.setDomain(null);
            return;
        }
        setDomain(group, target);
    }

    /**
     * __iommu_group_alloc_blocking_domain(): the driver's static blocked domain, else an empty paging domain;
     * null when the driver has neither.
     */
    IommuDomain blockingDomain(IommuGroup group) {
        if (group.blockingDomain() == null) {
            Device dev = group.devices().get(0);
            IommuDomain d = dev.ops().blockedDomain();
            if (d == null) {
                try {
                    d = allocPaging(dev, DomainType.UNMANAGED, 0);
                } catch (KernelException e) {
                    return null;
                }
            }
            group.setBlockingDomain(d);
        }
        return group.blockingDomain();
    }

    /** iommu_device_claim_dma_owner() and __iommu_take_dma_ownership(). */
    void claimOwner(IommuGroup group, Object owner) {
        if (group.dmaOwner() == IommuCore.LAB_OWNER && owner != IommuCore.LAB_OWNER) {
            takeOverFromLab(group, owner);
            return;
        }
        if (group.dmaOwnerCount() > 0) {
            if (group.dmaOwner() != owner) {
                throw new KernelException(Errno.EPERM, "owner", group + " is owned by " + group.dmaOwner());
            }
            group.setOwner(owner, group.dmaOwnerCount() + 1);
            return;
        }
        if (group.domain() != null && group.domain() != group.defaultDomain() || !group.pasidArrayEmpty()) {
            throw new KernelException(Errno.EBUSY, "dev", group + " has a domain attached");
        }
        IommuDomain blocking = blockingDomain(group);
        if (blocking != null) {
            setDomain(group, blocking);
        }
        group.setOwner(owner, 1);
    }

    /**
     * The lab's convention for default type BLOCKED: {@link IommuCore#LAB_OWNER} holds every group as a device handed
     * to user space but not yet opened; the first real owner (an iommufd context binding the device) takes the claim
     * over while the group sits on its blocking domain with no PASID attached, and the claim returns to the lab when
     * that owner releases it.
     */
    private void takeOverFromLab(IommuGroup group, Object owner) {
        if (group.domain() != null && group.domain() != blockingDomain(group) || !group.pasidArrayEmpty()) {
            throw new KernelException(Errno.EBUSY, "dev", group + " has a domain attached by the lab");
        }
        group.setOwner(owner, 1);
    }

    /** iommu_device_release_dma_owner() and __iommu_release_dma_ownership(). */
    void releaseOwner(IommuGroup group) {
        if (group.defaultDomain() == null && group.dmaOwnerCount() == 1 && group.dmaOwner() != IommuCore.LAB_OWNER
                && group.pasidArrayEmpty()) {
            IommuDomain blocking = blockingDomain(group);
            if (blocking != null) {
                setDomain(group, blocking);
            }
            group.setOwner(IommuCore.LAB_OWNER, 1);
            return;
        }
        if (group.dmaOwnerCount() == 0 || !group.pasidArrayEmpty() || group.defaultDomain() == null) {
            throw new KernelException(Errno.EINVAL, "dev", group + ": not owned, PASIDs attached or no default domain");
        }
        if (group.dmaOwnerCount() > 1) {
            group.setOwner(group.dmaOwner(), group.dmaOwnerCount() - 1);
            return;
        }
        setDomain(group, group.defaultDomain());
        group.setOwner(null, 0);
    }
}
