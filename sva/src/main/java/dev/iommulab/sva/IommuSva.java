package dev.iommulab.sva;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.GlobalPasidAllocator;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.iopf.IoPgfault;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shared virtual addressing, the counterpart of {@code drivers/iommu/iommu-sva.c}: binds a device to a
 * process address space under the mm's PASID, sharing one SVA domain per mm among devices.
 */
public final class IommuSva {

    /** {@code struct iommu_mm_data}: the mm's PASID and its SVA domains. */
    private static final class MmData {
        final int pasid;
        final List<IommuDomain> svaDomains = new ArrayList<>();

        MmData(int pasid) {
            this.pasid = pasid;
        }
    }

    private final IommuCore core;
    private final GlobalPasidAllocator pasids;
    private final SvaIopfHandler handler;
    private final EventLoop loop;
    private final Map<MmStruct, MmData> iommuMm = new HashMap<>();
    private final Map<AttachHandle, SvaHandle> handles = new IdentityHashMap<>();

    public IommuSva(IommuCore core, GlobalPasidAllocator pasids, IoPgfault iopf, EventLoop loop) {
        this.core = core;
        this.pasids = pasids;
        this.handler = new SvaIopfHandler(iopf, loop);
        this.loop = loop;
    }

    /**
     * Counterpart of iommu_sva_bind_device().
     *
     * <p>The kernel's caller holds a user of {@code mm}; an mm that has exited is refused here with EINVAL, as
     * arm_smmu_sva_set_dev_pasid() refuses it when mmget_not_zero() fails.
     *
     * @throws KernelException ENODEV (no group), EINVAL (the mm has exited), EOVERFLOW (the mm's PASID is beyond
     *                         the device's range), ENOSPC (no PASID left), EBUSY (page tables not DMA-compatible, or
     *                         the PASID taken by another mm or domain type), EOPNOTSUPP (no domain_alloc_sva), or what
     *                         the driver's attach fails with
     */
    public SvaHandle bindDevice(Device dev, MmStruct mm) {
        if (dev.group() == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no iommu group");
        }
        if (mm.users() == 0) {
            throw new KernelException(Errno.EINVAL, "mm", mm + " has exited");
        }
        boolean newMmData = !iommuMm.containsKey(mm);
        MmData data = allocMmData(dev, mm);
        try {
            SvaHandle handle = bindWithPasid(dev, mm, data);
            if (newMmData) {
                mm.registerDropHook(() -> mmPasidDrop(mm));
            }
            return handle;
        } catch (KernelException e) {
            if (newMmData) {
                // a failed call changes nothing: the fresh PASID goes back
                iommuMm.remove(mm);
                pasids.free(data.pasid);
            }
            throw e;
        }
    }

    /** Counterpart of iommu_alloc_mm_data(): the mm's PASID, allocated at its first bind. */
    private MmData allocMmData(Device dev, MmStruct mm) {
        if (!mm.pgtableDmaCompat()) {
            throw new KernelException(Errno.EBUSY, "mm", mm + " uses LAM without ARCH_FORCE_TAGGED_SVA: its page "
                    + "tables are not DMA-compatible");
        }
        MmData data = iommuMm.get(mm);
        if (data != null) {
            if (data.pasid >= dev.maxPasids()) {
                throw new KernelException(Errno.EOVERFLOW, "dev", "PASID " + data.pasid + " of " + mm
                        + " is beyond the " + dev.maxPasids() + " PASIDs of " + dev);
            }
            return data;
        }
        data = new MmData(pasids.alloc(dev));
        iommuMm.put(mm, data);
        return data;
    }

    private SvaHandle bindWithPasid(Device dev, MmStruct mm, MmData data) {
        AttachHandle existing = existingHandle(dev, data.pasid);
        if (existing != null) {
            SvaHandle sva = handles.get(existing);
            if (existing.domain().mm() != mm) {
                throw new KernelException(Errno.EBUSY, "mm", "PASID " + data.pasid + " is bound to another mm");
            }
            sva.users++;
            return sva;
        }
        for (IommuDomain domain : data.svaDomains) {
            if (domain.owner() != dev.ops()) {
                continue;
            }
            AttachHandle handle = new AttachHandle(domain);
            core.attachDevicePasid(domain, dev, data.pasid, handle);
            domain.setUsers(domain.users() + 1);
            return register(handle, dev, mm, data.pasid);
        }
        IommuDomain domain = svaDomainAlloc(dev, mm);
        AttachHandle handle = new AttachHandle(domain);
        try {
            core.attachDevicePasid(domain, dev, data.pasid, handle);
        } catch (KernelException e) {
            domainFree(domain); // out_free_domain
            throw e;
        }
        domain.setUsers(1);
        data.svaDomains.add(domain);
        return register(handle, dev, mm, data.pasid);
    }

    /**
     * iommu_sva_domain_alloc(): the driver's SVA domain with the SVA fault handler; the domain holds the mm
     * ({@code mmgrab()}: mm_count, not mm_users) until it is freed.
     */
    private IommuDomain svaDomainAlloc(Device dev, MmStruct mm) {
        IommuDomain domain = dev.ops().domainAllocSva(dev, mm);
        domain.setIopfHandler(handler::handle);
        mm.mmgrab();
        return domain;
    }

    /** iommu_domain_free() of an SVA domain: the driver frees it, then {@code mmdrop(domain->mm)}. */
    private static void domainFree(IommuDomain domain) {
        domain.ops().free(domain);
        domain.mm().mmdrop();
    }

    /**
     * Counterpart of mm_pasid_drop(), called from __mmdrop() when the mm is destroyed: the mm's PASID goes back to
     * the global allocator and its {@code iommu_mm} is freed.
     */
    private void mmPasidDrop(MmStruct mm) {
        MmData data = iommuMm.remove(mm);
        if (data == null) {
            return;
        }
        pasids.free(data.pasid);
        loop.trace().step(loop.now(), Layer.SVA, "mm_pasid_drop", "%s destroyed: PASID %d freed", mm.name(),
                data.pasid);
    }

    private AttachHandle existingHandle(Device dev, int pasid) {
        try {
            return core.attachHandleGet(dev.group(), pasid, DomainType.SVA);
        } catch (KernelException e) {
            if (e.errno() == Errno.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    private SvaHandle register(AttachHandle handle, Device dev, MmStruct mm, int pasid) {
        SvaHandle sva = new SvaHandle(handle, dev, mm, pasid);
        handles.put(handle, sva);
        loop.trace().step(loop.now(), Layer.SVA, "iommu_sva_bind_device","%s bound to %s with PASID %d", dev.name(), mm.name(), pasid);
        return sva;
    }

    /**
     * Counterpart of iommu_sva_unbind_device(): the last unbind detaches; a domain left without users is freed, which
     * drops its mm reference. The mm keeps its PASID until it is destroyed (mm_pasid_drop()).
     */
    public void unbindDevice(SvaHandle sva) {
        if (sva.users == 0) {
            throw new KernelException(Errno.EINVAL, "handle", "already unbound");
        }
        if (--sva.users > 0) {
            return;
        }
        IommuDomain domain = sva.attachHandle().domain();
        core.detachDevicePasid(domain, sva.device(), sva.pasid());
        handles.remove(sva.attachHandle());
        domain.setUsers(domain.users() - 1);
        if (domain.users() == 0) {
            iommuMm.get(sva.mm()).svaDomains.remove(domain);
            domainFree(domain);
        }
    }

    /** The PASID of {@code mm}, or {@link IommuCore#IOMMU_PASID_INVALID} when it has none. */
    public int mmPasid(MmStruct mm) {
        MmData data = iommuMm.get(mm);
        return data == null ? IommuCore.IOMMU_PASID_INVALID : data.pasid;
    }
}
