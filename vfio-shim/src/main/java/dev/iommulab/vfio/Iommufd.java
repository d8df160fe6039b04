package dev.iommulab.vfio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.iopf.IoPgfault;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * An iommufd context ({@code struct iommufd_ctx}, the open /dev/iommu) and its ioctls: IOAS alloc/map/unmap, fault
 * queue alloc, HWPT alloc (paging, nest parent, nested; fault-capable with a fault id), IOMMU_DESTROY, and the VFIO
 * cdev side — bind a device, attach/replace/detach it at the RID or a PASID. Objects have ids from 1 (lowest free)
 * and the kernel's reference rules: IOMMU_DESTROY of an object something holds is EBUSY. A fault-capable HWPT's
 * domain hands its page-request groups to the fault object's file ({@link IommufdFault}); every group is answered
 * exactly once, by user space or INVALID when its attachment or the fault object goes. Reference:
 * linux-fault-stack.md §1.8, §1.9, §5; drivers/iommu/iommufd/{main,ioas,hw_pagetable,device,eventq}.c.
 */
public final class Iommufd {

    /** {@code IOMMU_HWPT_ALLOC_NEST_PARENT}. */
    public static final int HWPT_ALLOC_NEST_PARENT = IommuCore.HWPT_ALLOC_NEST_PARENT;
    /** {@code IOMMU_HWPT_ALLOC_DIRTY_TRACKING}. */
    public static final int HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
    /** {@code IOMMU_HWPT_FAULT_ID_VALID}. */
    public static final int HWPT_FAULT_ID_VALID = 1 << 2;
    /** {@code IOMMU_HWPT_ALLOC_PASID}. */
    public static final int HWPT_ALLOC_PASID = 1 << 3;
    /** {@code IOMMU_IOAS_MAP_FIXED_IOVA}. */
    public static final int IOAS_MAP_FIXED_IOVA = Ioas.MAP_FIXED_IOVA;
    /** {@code IOMMU_IOAS_MAP_WRITEABLE}. */
    public static final int IOAS_MAP_WRITEABLE = Ioas.MAP_WRITEABLE;
    /** {@code IOMMU_IOAS_MAP_READABLE}. */
    public static final int IOAS_MAP_READABLE = Ioas.MAP_READABLE;

    /** Which fault object a replace searches for the old attachment's outstanding groups. */
    public enum ReplaceAutoResponse {
        /** The old HWPT's: every outstanding group of the old attachment is answered INVALID once. */
        INTENDED,
        /**
         * As coded in 2025: iommufd_hwpt_replace_device() passes the new HWPT, so when that has another fault object
         * (or none) the old attachment's groups stay queued until the fault object is destroyed.
         */
        LEGACY_2025
    }

    /** IOMMU_FAULT_QUEUE_ALLOC's answer: {@code out_fault_id} and the file behind {@code out_fault_fd}. */
    public record FaultAlloc(int faultId, IommufdFault file) {
    }

    /**
     * The user data of a nested HWPT ({@code struct iommu_hwpt_vtd_s1} and its kin): the guest's stage-1 table and
     * its address width.
     */
    public record Stage1(long table, int addressWidth) {
    }

    private final IommuCore core;
    private final IoPgfault iopf;
    private final ObjectTable objects = new ObjectTable();
    private final Attachments attachments;
    private boolean closed;

    public Iommufd(IommuCore core, IoPgfault iopf, ReplaceAutoResponse replaceMode) {
        this.core = Objects.requireNonNull(core, "core");
        this.iopf = Objects.requireNonNull(iopf, "iopf");
        this.attachments = new Attachments(core, Objects.requireNonNull(replaceMode, "replaceMode"), this::release);
    }

    /** IOMMU_IOAS_ALLOC: a new, empty IOAS; returns its id. */
    public int ioasAlloc() {
        checkOpen();
        return objects.add(new Ioas()).id();
    }

    /**
     * IOMMU_IOAS_MAP: pins {@code length} bytes of {@code mm} at {@code userVa} and maps them at {@code iova} (with
     * {@link #IOAS_MAP_FIXED_IOVA}; else at the lowest free IOVA) in every HWPT of the IOAS.
     *
     * @return the IOVA
     * @throws KernelException ENOENT for a bad {@code ioasId}; see {@link Ioas#map}
     */
    public long ioasMap(int ioasId, MmStruct mm, long userVa, long length, long iova, int flags) {
        checkOpen();
        return objects.get(ioasId, Ioas.class, "ioas_id").map(mm, userVa, length, iova, flags);
    }

    /**
     * IOMMU_IOAS_UNMAP: the areas inside the range leave every HWPT of the IOAS (IOTLB and device-TLB flushed) and
     * their pages are unpinned.
     *
     * @return the bytes unmapped
     * @throws KernelException ENOENT for a bad {@code ioasId}, a range that cuts an area or holds none
     */
    public long ioasUnmap(int ioasId, long iova, long length) {
        checkOpen();
        return objects.get(ioasId, Ioas.class, "ioas_id").unmap(iova, length);
    }

    /**
     * IOMMU_FAULT_QUEUE_ALLOC: a fault object and its open file "[iommufd-pgfault]".
     *
     * @throws KernelException EOPNOTSUPP when {@code flags} is not 0
     */
    public FaultAlloc faultQueueAlloc(int flags) {
        checkOpen();
        if (flags != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x: must be 0", flags));
        }
        IommufdFault file = new IommufdFault(new IopfResponder(iopf), attachments::devId);
        FaultObject fault = objects.add(new FaultObject(file));
        fault.get(); // the file's reference
        file.onRelease(fault::put);
        return new FaultAlloc(fault.id(), file);
    }

    /**
     * IOMMU_HWPT_ALLOC (iommufd_hwpt_alloc()): on an IOAS a paging HWPT mirroring it (a nest parent with
     * {@link #HWPT_ALLOC_NEST_PARENT}); on a nest-parent HWPT, with {@code stage1}, a nested one. With
     * {@link #HWPT_FAULT_ID_VALID} the domain is fault-capable and reports to fault object {@code faultId}.
     *
     * @param stage1 the nested HWPT's user data; null for a paging HWPT
     * @return the HWPT id
     * @throws KernelException ENOENT for a bad {@code devId} or a {@code faultId} that is not a fault object; EINVAL
     *                         for a {@code ptId} that is no IOAS or paging HWPT, or a parent that is not a nest parent;
     *                         EOPNOTSUPP for unknown flags, FAULT_ID_VALID with NEST_PARENT, dirty tracking, flags a
     *                         nested HWPT cannot take, or nested without user data; what the driver reports
     */
    public int hwptAlloc(int devId, int ptId, int flags, int faultId, Stage1 stage1) {
        checkOpen();
        IommufdDevice idev = objects.get(devId, IommufdDevice.class, "dev_id");
        IommufdObject pt = objects.find(ptId);
        Hwpt hwpt;
        if (pt instanceof Ioas ioas) {
            hwpt = HwptAlloc.paging(core, idev, ioas, flags, stage1, false);
        } else if (pt instanceof Hwpt parent && parent.parent == null) {
            hwpt = HwptAlloc.nested(core, idev, parent, flags, stage1);
        } else {
            throw new KernelException(Errno.EINVAL, "pt_id", pt == null ? "no object " + ptId
                    : pt + " is not an IOAS or a paging HWPT");
        }
        if ((flags & HWPT_FAULT_ID_VALID) != 0) {
            FaultObject fault;
            try {
                fault = objects.get(faultId, FaultObject.class, "fault_id");
            } catch (KernelException e) {
                hwpt.destroy();
                throw e;
            }
            hwpt.fault = fault;
            fault.get();
            hwpt.domain.setIopfHandler(fault.file::iopfHandler);
        }
        return objects.add(hwpt).id();
    }

    /** IOMMU_VIOMMU_TYPE_DEFAULT: a vIOMMU of the core alone, without driver ops (the v6.13 uAPI). */
    public static final int VIOMMU_TYPE_DEFAULT = 0;

    /** IOMMU_VEVENTQ_ALLOC's answer: {@code out_veventq_id} and the queue behind {@code out_veventq_fd}. */
    public record VeventqAlloc(int veventqId, IommufdVeventq queue) {
    }

    /**
     * IOMMU_VIOMMU_ALLOC on nest-parent HWPT {@code hwptId}. No driver of the lab has {@code viommu_init}, so only
     * {@link #VIOMMU_TYPE_DEFAULT} is offered — the core-only vIOMMU of v6.13 (mainline later refuses that type with
     * EOPNOTSUPP) — which is enough to carry event queues.
     *
     * @throws KernelException EOPNOTSUPP for flags or another type; ENOENT for a bad device or a HWPT that is not a
     *                         paging HWPT; EINVAL when it is not a nest parent
     */
    public int viommuAlloc(int devId, int hwptId, int flags, int type) {
        checkOpen();
        if (flags != 0 || type != VIOMMU_TYPE_DEFAULT) {
            throw new KernelException(Errno.EOPNOTSUPP, flags != 0 ? "flags" : "type", String.format(
                    "flags %#x type %d: only the core vIOMMU (type 0) here", flags, type));
        }
        objects.get(devId, IommufdDevice.class, "dev_id");
        Hwpt hwpt = objects.get(hwptId, Hwpt.class, "hwpt_id");
        if (hwpt.parent != null) {
            throw new KernelException(Errno.ENOENT, "hwpt_id", hwpt + " is not a paging HWPT");
        }
        if (!hwpt.nestParent) {
            throw new KernelException(Errno.EINVAL, "hwpt_id", hwpt + " is not a nest parent");
        }
        hwpt.get();
        return objects.add(new Viommu(hwpt, type)).id();
    }

    /**
     * IOMMU_VEVENTQ_ALLOC (iommufd_veventq_alloc()): an event queue of {@code type} and {@code depth} on vIOMMU
     * {@code viommuId}; see {@link IommufdVeventq.Veventqs#alloc}.
     *
     * @throws KernelException ENOENT for a bad vIOMMU id; EOPNOTSUPP, EINVAL, EEXIST as the queue's alloc
     */
    public VeventqAlloc veventqAlloc(int viommuId, int flags, int type, int depth) {
        checkOpen();
        Viommu viommu = objects.get(viommuId, Viommu.class, "viommu_id");
        IommufdVeventq queue = viommu.veventqs.alloc(flags, type, depth);
        viommu.get();
        return new VeventqAlloc(objects.add(new VeventqObject(viommu, queue)).id(), queue);
    }

    /**
     * iommufd_viommu_report_event(): what a driver calls for an event of a device behind vIOMMU {@code viommuId}
     * (the lab's drivers have none of their own, so scenarios report events directly).
     *
     * @throws KernelException ENOENT for a bad vIOMMU id; EOPNOTSUPP when no queue of {@code type} exists
     */
    public int viommuReportEvent(int viommuId, int type, byte[] data) {
        checkOpen();
        return objects.get(viommuId, Viommu.class, "viommu_id").veventqs.reportEvent(type, data);
    }

    /**
     * VFIO_DEVICE_BIND_IOMMUFD (iommufd_device_bind()): the context claims the device's DMA (its group goes to the
     * blocking domain) and the device gets an id.
     *
     * @return the device id ({@code dev_id})
     * @throws KernelException EINVAL when it is bound here already; what iommu_device_claim_dma_owner() reports
     *                         (EPERM: owned by someone else; EBUSY: a domain or a PASID is attached)
     */
    public int bindDevice(Device dev) {
        checkOpen();
        if (device(dev) != null) {
            throw new KernelException(Errno.EINVAL, "dev", dev + " is bound to this iommufd already");
        }
        core.claimDmaOwner(dev, this);
        return objects.add(new IommufdDevice(dev)).id();
    }

    /**
     * The VFIO device's unbind (vfio_iommufd_physical_unbind()): every PASID is detached, then the RID, then
     * iommufd_device_unbind() releases the DMA ownership and the device id.
     *
     * @throws KernelException ENOENT for a bad {@code devId}
     */
    public void unbindDevice(int devId) {
        checkOpen();
        IommufdDevice idev = objects.get(devId, IommufdDevice.class, "dev_id");
        for (int pasid : new ArrayList<>(idev.attached.descendingKeySet())) {
            if (pasid != IommuCore.IOMMU_NO_PASID) {
                attachments.detach(idev, pasid);
            }
        }
        if (idev.attached.containsKey(IommuCore.IOMMU_NO_PASID)) {
            attachments.detach(idev, IommuCore.IOMMU_NO_PASID);
        }
        objects.forget(idev);
        core.releaseDmaOwner(idev.dev);
    }

    /**
     * iommufd_device_attach(): {@code ptId} at {@code pasid} ({@link IommuCore#IOMMU_NO_PASID}: the RID). A HWPT is
     * attached as it is; an IOAS gets an automatic paging HWPT — one already made for it that fits, else a new one.
     *
     * @return the HWPT id attached
     * @throws KernelException ENOENT for a bad {@code devId} or {@code ptId}; EINVAL for an object that is not an
     *                         IOAS or HWPT, and see {@link Attachments#attach}
     */
    public int attach(int devId, int pasid, int ptId) {
        return changePt(devId, pasid, ptId, false);
    }

    /**
     * iommufd_device_replace(): what is attached at {@code pasid} is replaced by {@code ptId} (see
     * {@link #attach} for an IOAS), and the old attachment's outstanding groups are answered INVALID.
     *
     * @return the HWPT id now attached
     */
    public int replace(int devId, int pasid, int ptId) {
        return changePt(devId, pasid, ptId, true);
    }

    /** What attach and replace share, as iommufd_device_change_pt() is their shared body in the kernel. */
    private int changePt(int devId, int pasid, int ptId, boolean replace) {
        checkOpen();
        IommufdDevice idev = objects.get(devId, IommufdDevice.class, "dev_id");
        IommufdObject pt = pageTable(ptId);
        if (!(pt instanceof Hwpt hwpt)) {
            return autoAttach(idev, pasid, (Ioas) pt, replace);
        }
        if (replace) {
            attachments.replace(idev, pasid, hwpt);
        } else {
            attachments.attach(idev, pasid, hwpt);
        }
        return hwpt.id();
    }

    /** iommufd_device_detach(); see {@link Attachments#detach}. */
    public void detach(int devId, int pasid) {
        checkOpen();
        attachments.detach(objects.get(devId, IommufdDevice.class, "dev_id"), pasid);
    }

    /**
     * IOMMU_DESTROY: removes object {@code id}.
     *
     * @throws KernelException ENOENT for an unknown id; EBUSY while it is held: an attached HWPT, an IOAS with HWPTs,
     *                         a fault object with HWPTs or an open file, a bound device
     */
    public void destroy(int id) {
        checkOpen();
        objects.destroy(id);
    }

    /**
     * The owning process goes (every file closed): devices are unbound, open fault files closed — answering
     * nothing — and then the context's release (iommufd_fops_release()) destroys the objects in id order as their
     * references allow, so a fault object's remaining groups are answered INVALID by its destroy.
     */
    public void close() {
        checkOpen();
        for (IommufdObject obj : objects.all()) {
            if (obj instanceof IommufdDevice idev) {
                unbindDevice(idev.id());
            } else if (obj instanceof FaultObject fault && fault.file.isOpen()) {
                fault.file.close();
            }
        }
        boolean destroyed = true;
        while (destroyed) {
            destroyed = false;
            for (IommufdObject obj : objects.all()) {
                if (obj.users() == 1) {
                    objects.destroy(obj.id());
                    destroyed = true;
                }
            }
        }
        closed = true;
    }

    /** The id of {@code dev} bound here, or 0. */
    public int devId(Device dev) {
        IommufdDevice idev = device(dev);
        return idev == null ? 0 : idev.id();
    }

    /** The domain of HWPT {@code hwptId} (for inspection). */
    public IommuDomain hwptDomain(int hwptId) {
        return objects.get(hwptId, Hwpt.class, "hwpt_id").domain;
    }

    /** Ids of the objects alive, in order. */
    public List<Integer> objectIds() {
        return objects.all().stream().map(IommufdObject::id).toList();
    }

    private IommufdObject pageTable(int ptId) {
        IommufdObject pt = objects.find(ptId);
        if (pt == null) {
            throw new KernelException(Errno.ENOENT, "pt_id", "no object " + ptId);
        }
        if (!(pt instanceof Ioas) && !(pt instanceof Hwpt)) {
            throw new KernelException(Errno.EINVAL, "pt_id", pt + " is not an IOAS or a HWPT");
        }
        return pt;
    }

    /**
     * iommufd_device_auto_get_domain(): an automatic HWPT of {@code ioas} from this driver that takes the device,
     * else a new one (PASID compatible when attached at a PASID), destroyed again if the attach fails.
     */
    private int autoAttach(IommufdDevice idev, int pasid, Ioas ioas, boolean replace) {
        for (IommufdObject obj : objects.all()) {
            if (obj instanceof Hwpt h && h.autoDomain && h.ioas == ioas && h.domain.owner() == idev.dev.ops()
                    && (pasid == IommuCore.IOMMU_NO_PASID || h.pasidCompat)) {
                try {
                    attachOrReplace(idev, pasid, h, replace);
                    return h.id();
                } catch (KernelException e) {
                    if (e.errno() != Errno.EINVAL) {
                        throw e;
                    }
                }
            }
        }
        Hwpt hwpt = objects.add(HwptAlloc.paging(core, idev, ioas,
                pasid == IommuCore.IOMMU_NO_PASID ? 0 : HWPT_ALLOC_PASID, null, true));
        try {
            attachOrReplace(idev, pasid, hwpt, replace);
        } catch (KernelException e) {
            release(hwpt);
            throw e;
        }
        return hwpt.id();
    }

    private void attachOrReplace(IommufdDevice idev, int pasid, Hwpt hwpt, boolean replace) {
        if (replace) {
            attachments.replace(idev, pasid, hwpt);
        } else {
            attachments.attach(idev, pasid, hwpt);
        }
    }

    /** Destroys an automatic HWPT nothing is attached to any more. */
    private void release(Hwpt hwpt) {
        objects.forget(hwpt);
        hwpt.destroy();
    }

    private IommufdDevice device(Device dev) {
        for (IommufdObject obj : objects.all()) {
            if (obj instanceof IommufdDevice idev && idev.dev == dev) {
                return idev;
            }
        }
        return null;
    }

    /** Names the context in messages (e.g. the DMA owner of a group) without an identity hash, so runs repeat. */
    @Override
    public String toString() {
        return "an iommufd context";
    }

    private void checkOpen() {
        if (closed) {
            throw new KernelException(Errno.EBADF, "fd", "the iommufd is closed");
        }
    }

    /** The fault object's way to answer and free groups: io-pgfault's iopf_group_response() and iopf_free_group(). */
    private record IopfResponder(IoPgfault iopf) implements IommufdFault.Responder {
        @Override
        public void respond(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
            iopf.groupResponse(group, code, origin);
        }

        @Override
        public void free(IopfGroup group) {
            iopf.freeGroup(group);
        }

        @Override
        public boolean owed(IopfGroup group) {
            return iopf.groupOwed(group);
        }
    }
}
