package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The IOMMU core ({@code drivers/iommu/iommu.c}): probes devices into groups and attaches domains at
 * PASIDs and at the RID through attach handles.
 */
public final class IommuCore {

    /** IOMMU_NO_PASID: the PASID slot of the RID. */
    public static final int IOMMU_NO_PASID = 0;
    /** IOMMU_PASID_INVALID. */
    public static final int IOMMU_PASID_INVALID = -1;

    private final List<Device> devices = new ArrayList<>();
    private int nextGroupId;

    /**
     * Counterpart of iommu_probe_device(): the PCI function becomes a device behind {@code ops}, in a
     * group of its own (one function per group, as with ACS isolation).
     *
     * @throws KernelException EBUSY if a device with the same requester ID was probed already
     */
    public Device probeDevice(PcieEndpoint pci, IommuOps ops) {
        String name = pci.config().name();
        int rid = pci.rid();
        for (Device d : devices) {
            if (d.rid() == rid) {
                throw new KernelException(Errno.EBUSY, "rid", String.format("%04x already probed as %s", rid, d));
            }
        }
        Device dev = new Device(name, rid, pci.config().maxPasids(), ops);
        ops.probeDevice(dev, pci);
        IommuGroup group = new IommuGroup(nextGroupId++);
        group.addDevice(dev);
        dev.setGroup(group);
        devices.add(dev);
        return dev;
    }

    public List<Device> devices() {
        return Collections.unmodifiableList(devices);
    }

    /**
     * Counterpart of iommu_attach_device_pasid(): attaches {@code domain} at {@code pasid} of the device's
     * group with {@code handle}.
     *
     * @throws KernelException ENODEV without a group, EINVAL for a PASID out of the device's range or a
     *                         domain of another driver, EBUSY if something is attached there already
     */
    public void attachDevicePasid(IommuDomain domain, Device dev, int pasid, AttachHandle handle) {
        IommuGroup group = dev.group();
        if (group == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (pasid == IOMMU_NO_PASID || pasid < 0 || pasid >= dev.maxPasids()) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " outside [1, " + dev.maxPasids() + ")");
        }
        if (domain.owner() != dev.ops()) {
            throw new KernelException(Errno.EINVAL, "domain", "belongs to another IOMMU driver");
        }
        if (!Objects.equals(handle.domain(), domain)) {
            throw new KernelException(Errno.EINVAL, "handle", "does not refer to the domain");
        }
        if (group.handleAt(pasid) != null) {
            throw new KernelException(Errno.EBUSY, "pasid", pasid + " already attached on " + dev);
        }
        dev.ops().setDevPasid(domain, dev, pasid);
        group.setHandle(pasid, handle);
    }

    /** Counterpart of iommu_detach_device_pasid(): the blocked domain takes {@code pasid} again. */
    public void detachDevicePasid(IommuDomain domain, Device dev, int pasid) {
        IommuGroup group = dev.group();
        AttachHandle handle = group == null ? null : group.handleAt(pasid);
        if (handle == null || handle.domain() != domain) {
            throw new KernelException(Errno.EINVAL, "domain", "not attached at PASID " + pasid + " of " + dev);
        }
        dev.ops().removeDevPasid(dev, pasid, domain);
        group.removeHandle(pasid);
    }

    /**
     * Counterpart of iommu_attach_handle_get(): the handle at {@code pasid}; ENOENT when none, EBUSY when
     * {@code type} is given and the domain is of another type.
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

    /**
     * Counterpart of iommu_attach_device() (and, with its handle, iommu_attach_group_handle()): attaches
     * {@code domain} at the RID ({@link #IOMMU_NO_PASID}) of the device's group, where io-pgfault finds it
     * for faults without PASID and, on a driver with {@code user_pasid_table}, for un-attached PASIDs of a
     * NESTED domain. Attaching the domain that is already there does nothing.
     *
     * @throws KernelException ENODEV without a group, EINVAL for a group of several devices or a domain of
     *                         another driver, EBUSY if another domain is attached at the RID
     */
    public void attachDevice(IommuDomain domain, Device dev) {
        IommuGroup group = dev.group();
        if (group == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (group.devices().size() != 1) {
            throw new KernelException(Errno.EINVAL, "dev", "group " + group.id() + " has several devices");
        }
        if (domain.owner() != dev.ops()) {
            throw new KernelException(Errno.EINVAL, "domain", "belongs to another IOMMU driver");
        }
        AttachHandle current = group.handleAt(IOMMU_NO_PASID);
        if (current != null && current.domain() == domain) {
            return;
        }
        if (current != null) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " RID already attached to " + current.domain());
        }
        dev.ops().attachDev(domain, dev);
        group.setHandle(IOMMU_NO_PASID, new AttachHandle(domain));
    }

    /** Counterpart of iommu_detach_device(): the RID is left without a domain (blocked). */
    public void detachDevice(IommuDomain domain, Device dev) {
        IommuGroup group = dev.group();
        AttachHandle handle = group == null ? null : group.handleAt(IOMMU_NO_PASID);
        if (handle == null || handle.domain() != domain) {
            throw new KernelException(Errno.EINVAL, "domain", "not attached at the RID of " + dev);
        }
        group.removeHandle(IOMMU_NO_PASID);
    }
}
