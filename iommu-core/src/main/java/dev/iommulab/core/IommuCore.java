package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The IOMMU core ({@code drivers/iommu/iommu.c}): probes devices into groups with their default domain,
 * allocates domains, and attaches, replaces and detaches domains at the RID ({@code group->domain}) and at
 * PASIDs ({@code pasid_array}, through attach handles). Mapping is {@link IommuMap}. A call that fails with a
 * {@link KernelException} changes nothing: neither the group nor what the driver programmed.
 *
 * <p>The default domain ({@code iommu_def_domain_type}) is chosen when the core is built: DMA (the kernel's
 * usual {@code CONFIG_IOMMU_DEFAULT_DMA_*}), IDENTITY ({@code iommu.passthrough=1}), or BLOCKED, the lab's
 * default: every group starts claimed for DMA by the lab ({@code iommu_device_claim_dma_owner()}, as a device
 * handed to a user-space driver is) and so sits on its blocking domain until something is attached, and
 * returns to it on detach.
 *
 * <p>Why over 300 lines: it is iommu.c's public surface — probe, domain alloc, attach/replace/detach at the RID and
 * at PASIDs, DMA ownership — each with its errno contract; the group and PASID bookkeeping is in
 * {@link GroupDomains} and {@link PasidDomains}.
 */
public final class IommuCore {

    /** IOMMU_NO_PASID: the PASID slot of the RID. */
    public static final int IOMMU_NO_PASID = 0;
    /** IOMMU_PASID_INVALID. */
    public static final int IOMMU_PASID_INVALID = -1;
    /** IOMMU_HWPT_ALLOC_NEST_PARENT: the paging domain will be the parent (second stage) of nested domains. */
    public static final int HWPT_ALLOC_NEST_PARENT = 1;
    /** The DMA owner of groups when the default domain type is BLOCKED. */
    public static final Object LAB_OWNER = "iommu-lab";

    private final List<Device> devices = new ArrayList<>();
    private final DomainType defaultDomainType;
    private final GroupDomains groups = new GroupDomains();
    private final PasidDomains pasids = new PasidDomains();
    private int nextGroupId;

    /** A core whose groups start on their blocking domain (default domain type BLOCKED, see the class comment). */
    public IommuCore() {
        this(DomainType.BLOCKED);
    }

    /** A core whose groups get a default domain of {@code defaultDomainType}: DMA, IDENTITY or BLOCKED. */
    public IommuCore(DomainType defaultDomainType) {
        if (defaultDomainType != DomainType.DMA && defaultDomainType != DomainType.IDENTITY
                && defaultDomainType != DomainType.BLOCKED) {
            throw new IllegalArgumentException("default domains are DMA, IDENTITY or BLOCKED, not " + defaultDomainType);
        }
        this.defaultDomainType = defaultDomainType;
    }

    /** iommu_def_domain_type. */
    public DomainType defaultDomainType() {
        return defaultDomainType;
    }

    /**
     * Counterpart of iommu_probe_device(): the PCI function becomes a device behind {@code ops}, in a group of
     * its own (one function per group, as with ACS isolation), and iommu_setup_default_domain() attaches its
     * default domain (or, with BLOCKED, the blocking domain).
     *
     * @throws KernelException EBUSY if a device with the same requester ID was probed already; what the
     *                         driver reports when the default domain cannot be allocated or attached (the
     *                         device is then not added; the driver keeps its probe state)
     */
    public Device probeDevice(PcieEndpoint pci, IommuOps ops) {
        String name = pci.config().name();
        int rid = pci.rid();
        for (Device d : devices) {
            if (d.rid() == rid) {
                throw new KernelException(Errno.EBUSY, "rid", String.format("%04x already probed as %s", rid, d));
            }
        }
        Device dev = new Device(name, rid, pci.config().maxPasids(), ops, pci.config().pri(),
                pci.config().options().virtualFunction(), pci);
        ops.probeDevice(dev, pci);
        IommuGroup group = new IommuGroup(nextGroupId);
        group.addDevice(dev);
        dev.setGroup(group);
        try {
            groups.setupDefaultDomain(group, dev, defaultDomainType);
        } catch (KernelException e) {
            dev.setGroup(null);
            throw e;
        }
        nextGroupId++;
        devices.add(dev);
        return dev;
    }

    public List<Device> devices() {
        return Collections.unmodifiableList(devices);
    }

    // ---- domain allocation ----

    /**
     * Counterpart of __iommu_paging_domain_alloc_flags() with iommu_domain_init(): a new paging domain of
     * {@code type} (UNMANAGED, as iommu_paging_domain_alloc() gives, or DMA, as a default domain is) from the
     * device's driver; {@code flags} are IOMMU_HWPT_ALLOC_* bits such as {@link #HWPT_ALLOC_NEST_PARENT}.
     *
     * @throws KernelException ENODEV without a group, EINVAL for a type that is not a paging type, and what
     *                         the driver reports (EOPNOTSUPP, ENOMEM, ENOSPC)
     */
    public IommuDomain domainAllocPaging(Device dev, DomainType type, int flags) {
        if (dev.group() == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        return GroupDomains.allocPaging(dev, type, flags);
    }

    /** Counterpart of iommu_paging_domain_alloc(): an UNMANAGED paging domain for {@code dev}. */
    public IommuDomain pagingDomainAlloc(Device dev) {
        return domainAllocPaging(dev, DomainType.UNMANAGED, 0);
    }

    /**
     * Counterpart of iommufd_hwpt_nested_alloc() reaching {@code domain_alloc_nested}: a NESTED domain whose first
     * stage is the table at {@code s1Table} (in {@code parent}'s IOVA space) nested on the paging domain
     * {@code parent}, which was allocated with {@link #HWPT_ALLOC_NEST_PARENT}.
     *
     * @throws KernelException ENODEV without a group, EINVAL when {@code parent} is not a paging domain of the
     *                         device's driver, and what the driver reports
     */
    public IommuDomain domainAllocNested(Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        if (dev.group() == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (parent.owner() != dev.ops() || !parent.type().isPaging()) {
            throw new KernelException(Errno.EINVAL, "parent", "not a paging domain of " + dev.ops().name());
        }
        return dev.ops().domainAllocNested(dev, parent, s1Table, addressWidth);
    }

    // ---- the RID: group->domain ----

    /**
     * Counterpart of iommu_attach_device(): {@code domain} translates the device's requests without PASID.
     * Only a group's core-owned domain (default or blocking) may be replaced this way; an attached domain must
     * be detached first.
     *
     * @throws KernelException ENODEV without a group; EINVAL for a group of several devices or a domain of
     *                         another driver; EBUSY when a domain other than the default or blocking one is
     *                         attached (even {@code domain} itself); what the driver's attach_dev reports
     */
    public void attachDevice(IommuDomain domain, Device dev) {
        IommuGroup group = singleDeviceGroup(dev);
        groups.attachGroup(domain, group);
    }

    /** Counterpart of iommu_attach_group(); see {@link #attachDevice} (without the device-count check). */
    public void attachGroup(IommuDomain domain, IommuGroup group) {
        groups.attachGroup(domain, group);
    }

    /**
     * Counterpart of iommu_detach_device(): the group returns to its core-owned domain, the blocking domain
     * when its DMA is owned (always with default type BLOCKED), else the default domain. The kernel WARNs and
     * does nothing when {@code domain} is not the attached one; here that is EINVAL, with nothing changed.
     *
     * @throws KernelException EINVAL when {@code domain} is not what the device's group has attached, or the
     *                         group has several devices
     */
    public void detachDevice(IommuDomain domain, Device dev) {
        IommuGroup group = dev.group();
        if (group == null || group.domain() != domain || group.devices().size() != 1) {
            throw new KernelException(Errno.EINVAL, "domain", "not attached at the RID of " + dev);
        }
        groups.setCoreDomain(group);
    }

    /**
     * Counterpart of iommu_group_replace_domain(): switches the group to {@code newDomain} without passing
     * through the blocking domain; on failure the old domain stays.
     *
     * @throws KernelException EINVAL for a null domain or one of another driver; what attach_dev reports
     */
    public void groupReplaceDomain(IommuGroup group, IommuDomain newDomain) {
        if (newDomain == null) {
            throw new KernelException(Errno.EINVAL, "domain", "null");
        }
        GroupDomains.checkCompatible(group, newDomain);
        groups.setDomain(group, newDomain);
    }

    /**
     * Counterpart of iommu_attach_group_handle(): {@link #attachGroup} that also publishes {@code handle} at
     * {@link #IOMMU_NO_PASID}, where io-pgfault finds it for faults without PASID (iommufd's way).
     *
     * @throws KernelException EINVAL without a handle; EBUSY when a handle is there already; as
     *                         {@link #attachDevice}
     */
    public void attachGroupHandle(IommuDomain domain, IommuGroup group, AttachHandle handle) {
        checkHandle(handle, domain);
        if (group.slot(IOMMU_NO_PASID) != null) {
            throw new KernelException(Errno.EBUSY, "handle", "a handle is attached at the RID of " + group);
        }
        groups.attachGroup(domain, group);
        group.setSlot(IOMMU_NO_PASID, domain, handle);
    }

    /**
     * Counterpart of iommu_replace_group_handle(): {@link #groupReplaceDomain} publishing {@code handle} for the
     * new domain at {@link #IOMMU_NO_PASID}.
     */
    public void replaceGroupHandle(IommuGroup group, IommuDomain newDomain, AttachHandle handle) {
        checkHandle(handle, newDomain);
        groupReplaceDomain(group, newDomain);
        group.setSlot(IOMMU_NO_PASID, newDomain, handle);
    }

    /** Counterpart of iommu_detach_group_handle(): back to the core-owned domain, handle removed. */
    public void detachGroupHandle(IommuDomain domain, IommuGroup group) {
        if (group.domain() != domain) {
            throw new KernelException(Errno.EINVAL, "domain", "not attached at the RID of " + group);
        }
        groups.setCoreDomain(group);
        group.removeSlot(IOMMU_NO_PASID);
    }

    /** Counterpart of iommu_get_domain_for_dev(): the domain translating the device's RID, or null. */
    public IommuDomain getDomainForDev(Device dev) {
        return dev.group() == null ? null : dev.group().domain();
    }

    /**
     * Counterpart of iommu_device_claim_dma_owner(): the group's DMA now belongs to {@code owner} (a user-space
     * driver), on the blocking domain. A second claim by the same owner counts up.
     *
     * @throws KernelException EINVAL for a null owner; ENODEV without a group; EPERM when another owner holds
     *                         the group; EBUSY when a non-default domain or any PASID is attached
     */
    public void claimDmaOwner(Device dev, Object owner) {
        if (owner == null) {
            throw new KernelException(Errno.EINVAL, "owner", "null");
        }
        if (dev.group() == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        groups.claimOwner(dev.group(), owner);
    }

    /**
     * Counterpart of iommu_device_release_dma_owner(): the last release returns the group to its default
     * domain.
     *
     * @throws KernelException EINVAL when the group is not owned, a PASID is still attached, or it has no
     *                         default domain to return to (default type BLOCKED)
     */
    public void releaseDmaOwner(Device dev) {
        groups.releaseOwner(singleDeviceGroup(dev));
    }

    // ---- PASIDs: pasid_array ----

    /**
     * Counterpart of iommu_attach_device_pasid(): attaches {@code domain} at {@code pasid} of the device's group,
     * with {@code handle} (null: a bare domain entry that iommu_attach_handle_get() does not return).
     *
     * @throws KernelException ENODEV without a group; EINVAL for IOMMU_NO_PASID, a PASID out of the device's
     *                         range, a domain of another driver or a handle naming another domain; EBUSY if
     *                         something is attached there already; what set_dev_pasid reports
     */
    public void attachDevicePasid(IommuDomain domain, Device dev, int pasid, AttachHandle handle) {
        pasids.attach(domain, dev, pasid, handle);
    }

    /**
     * Counterpart of iommu_replace_device_pasid(): the domain at {@code pasid} (which must be attached) is
     * replaced by {@code domain} with a new {@code handle}; on failure the old domain and handle stay.
     *
     * @throws KernelException ENODEV without a group; EINVAL for IOMMU_NO_PASID, a domain of another driver, no
     *                         handle, nothing attached at {@code pasid}, or the handle already there; what
     *                         set_dev_pasid with the old domain reports (EOPNOTSUPP when the driver cannot)
     */
    public void replaceDevicePasid(IommuDomain domain, Device dev, int pasid, AttachHandle handle) {
        pasids.replace(domain, dev, pasid, handle);
    }

    /**
     * Counterpart of iommu_detach_device_pasid(): the blocked domain takes {@code pasid} again (the driver tears
     * the PASID down). The kernel trusts the caller; here naming a domain that is not attached there is EINVAL.
     */
    public void detachDevicePasid(IommuDomain domain, Device dev, int pasid) {
        pasids.detach(domain, dev, pasid);
    }

    /**
     * Counterpart of iommu_attach_handle_get(): the handle at {@code pasid}; ENOENT when none (or a domain
     * attached without one), EBUSY when {@code type} is given and the domain is of another type.
     */
    public AttachHandle attachHandleGet(IommuGroup group, int pasid, DomainType type) {
        AttachHandle handle = group.handleAt(pasid);
        if (handle == null) {
            throw new KernelException(Errno.ENOENT, "pasid", "nothing attached at " + pasid);
        }
        if (type != null && handle.domain().type() != type) {
            throw new KernelException(Errno.EBUSY, "type", "PASID " + pasid + " holds a " + handle.domain().type()
                    + " domain, not " + type);
        }
        return handle;
    }

    private static IommuGroup singleDeviceGroup(Device dev) {
        IommuGroup group = dev.group();
        if (group == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (group.devices().size() != 1) {
            throw new KernelException(Errno.EINVAL, "dev", "group " + group.id() + " has several devices");
        }
        return group;
    }

    static void checkHandle(AttachHandle handle, IommuDomain domain) {
        if (handle == null) {
            throw new KernelException(Errno.EINVAL, "handle", "null");
        }
        if (!Objects.equals(handle.domain(), domain)) {
            throw new KernelException(Errno.EINVAL, "handle", "does not refer to the domain");
        }
    }
}
