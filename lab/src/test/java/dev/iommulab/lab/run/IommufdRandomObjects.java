package dev.iommulab.lab.run;

import static dev.iommulab.lab.run.IommufdRandomSession.IOVA;
import static dev.iommulab.lab.run.IommufdRandomSession.NO_PASID;
import static dev.iommulab.lab.run.IommufdRandomSession.PAGE;
import static dev.iommulab.lab.run.IommufdRandomSession.VA;
import static dev.iommulab.lab.run.IommufdRandomSession.WINDOW;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.vfio.Iommufd;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The object ioctls of {@link IommufdRandomTest}'s user space: VFIO_DEVICE_BIND_IOMMUFD, IOMMU_IOAS_ALLOC,
 * IOMMU_IOAS_MAP/UNMAP of pinned pages, IOMMU_FAULT_QUEUE_ALLOC and IOMMU_HWPT_ALLOC (iommufd_device_bind(),
 * iommufd_ioas_alloc_ioctl(), iopt_map_user_pages(), iopt_unmap_iova(), iommufd_fault_alloc(),
 * iommufd_hwpt_alloc()), each answer and new id predicted from the model.
 */
final class IommufdRandomObjects {

    private final IommufdRandomSession s;

    IommufdRandomObjects(IommufdRandomSession s) {
        this.s = s;
    }

    /** Binds {@code dev}: the lowest free id, or EINVAL when it is bound already. */
    void bind(Device dev) {
        boolean bound = s.model.devIds.containsKey(dev);
        int id = s.model.nextId();
        Integer got = s.call("bind " + dev.name(), bound ? Errno.EINVAL : null, () -> s.ctx.bindDevice(dev));
        if (got != null) {
            if (got != id) {
                s.fail("bind %s got id %d, expected the lowest free %d", dev.name(), got, id);
            }
            s.model.devIds.put(dev, got);
            s.note("bind %s -> dev %d", dev.name(), got);
        }
    }

    /** A device bound again gets a RID attachment, sometimes a PASID too. */
    void reattach(Device dev) {
        if (s.model.devIds.containsKey(dev)) {
            s.attachments.attach(dev, NO_PASID, faultCapableHwpt());
            if (s.random.nextBoolean()) {
                s.attachments.attach(dev, 1 + s.random.nextInt(3), faultCapableHwpt());
            }
        }
    }

    void faultAlloc() {
        int id = s.model.nextId();
        Iommufd.FaultAlloc a = s.call("FAULT_QUEUE_ALLOC", null, () -> s.ctx.faultQueueAlloc(0));
        if (a == null) {
            return;
        }
        if (a.faultId() != id) {
            s.fail("FAULT_QUEUE_ALLOC got id %d, expected %d", a.faultId(), id);
        }
        IommufdRandomLedger.File f = new IommufdRandomLedger.File(a.faultId(), a.file());
        s.files.add(f);
        s.model.faults.put(a.faultId(), new IommufdRandomModel.Fault(f));
        s.note("fault object %d", a.faultId());
    }

    /**
     * A paging HWPT on the IOAS for a bound device, mostly with IOMMU_HWPT_ALLOC_PASID; fault-capable with one of the
     * fault objects (sometimes a fault id that is none: ENOENT; no IOAS left: EINVAL).
     */
    void hwptAlloc(boolean faultCapable) {
        List<Device> bound = new ArrayList<>(s.model.devIds.keySet());
        if (bound.isEmpty()) {
            return;
        }
        Device dev = bound.get(s.random.nextInt(bound.size()));
        boolean pasid = s.random.nextInt(8) != 0;
        List<Integer> faultIds = new ArrayList<>(s.model.faults.keySet());
        int faultId = faultIds.isEmpty() || s.random.nextInt(20) == 0 ? 99
                : faultIds.get(s.random.nextInt(faultIds.size()));
        int flags = (pasid ? Iommufd.HWPT_ALLOC_PASID : 0) | (faultCapable ? Iommufd.HWPT_FAULT_ID_VALID : 0);
        Errno expected = s.model.ioasId == 0 ? Errno.EINVAL : faultCapable && !s.model.faults.containsKey(faultId)
                ? Errno.ENOENT : null;
        int id = s.model.nextId();
        int ioas = s.model.ioasId;
        int devId = s.model.devIds.get(dev);
        String what = String.format("HWPT_ALLOC(dev %d, flags %#x, fault %d)", devId, flags,
                faultCapable ? faultId : 0);
        Integer got = s.call(what, expected, () -> s.ctx.hwptAlloc(devId, ioas, flags, faultCapable ? faultId : 0,
                null));
        if (got == null) {
            return;
        }
        if (got != id) {
            s.fail("%s got id %d, expected %d", what, got, id);
        }
        IommufdRandomModel.Fault fault = faultCapable ? s.model.faults.get(faultId) : null;
        IommufdRandomModel.Hwpt h = new IommufdRandomModel.Hwpt(got, s.ctx.hwptDomain(got), fault, pasid, false);
        s.model.hwpts.put(got, h);
        if (fault != null) {
            s.ledger.reportsTo(h.domain, fault.ledger);
        }
        s.note("%s -> %s", what, h);
    }

    /** A page-table id to attach: mostly a HWPT, sometimes the IOAS (an automatic HWPT), a fault object or none. */
    int anyPt() {
        int kind = s.random.nextInt(20);
        if (kind == 0) {
            return s.model.faults.isEmpty() ? 77 : s.model.faults.keySet().iterator().next();
        }
        if (kind == 1) {
            return 50 + s.random.nextInt(10);
        }
        if (kind < 4 || s.model.hwpts.isEmpty()) {
            return s.model.ioasId;
        }
        List<Integer> ids = new ArrayList<>(s.model.hwpts.keySet());
        return ids.get(s.random.nextInt(ids.size()));
    }

    int faultCapableHwpt() {
        List<IommufdRandomModel.Hwpt> capable = s.model.hwpts.values().stream().filter(h -> h.fault != null).toList();
        return capable.isEmpty() ? anyPt() : capable.get(s.random.nextInt(capable.size())).id;
    }

    /** A fault-capable HWPT of another fault object than {@code old}'s, if there is one. */
    int otherFaultHwpt(IommufdRandomModel.Attach old) {
        List<IommufdRandomModel.Hwpt> other = s.model.hwpts.values().stream()
                .filter(h -> h.fault != null && (old == null || h.fault != old.hwpt().fault)).toList();
        return other.isEmpty() ? faultCapableHwpt() : other.get(s.random.nextInt(other.size())).id;
    }

    /** IOAS_UNMAP of a whole area (or a cut through one: ENOENT), or IOAS_MAP of 1-2 window pages. */
    void ioasMapOrUnmap() {
        if (s.model.ioasId == 0) {
            return;
        }
        if (s.random.nextBoolean() && !s.model.areas.isEmpty()) {
            List<Long> starts = new ArrayList<>(s.model.areas.keySet());
            long iova = starts.get(s.random.nextInt(starts.size()));
            long length = s.model.areas.get(iova);
            boolean cut = length > PAGE && s.random.nextInt(4) == 0;
            long len = cut ? PAGE : length;
            Long got = s.call(String.format("IOAS_UNMAP %#x+%#x", iova, len), cut ? Errno.ENOENT : null,
                    () -> s.ctx.ioasUnmap(s.model.ioasId, iova, len));
            if (got != null) {
                if (got != length) {
                    s.fail("IOAS_UNMAP %#x returned %d, expected %d", iova, got, length);
                }
                s.model.areas.remove(iova);
                s.note("IOAS_UNMAP %#x+%#x", iova, len);
            }
            s.count("ioas unmaps", 1);
        } else {
            map(s.random.nextInt(WINDOW), 1 + s.random.nextInt(2));
        }
    }

    /** IOAS_MAP of window pages [page, page + pages) at their IOVA, pinned; EEXIST over an area. */
    void map(int page, int pages) {
        int n = Math.min(pages, WINDOW - page);
        long iova = IOVA + page * PAGE;
        Errno expected = s.model.mapped(iova, n * PAGE) ? Errno.EEXIST : null;
        int flags = Iommufd.IOAS_MAP_FIXED_IOVA | Iommufd.IOAS_MAP_READABLE | Iommufd.IOAS_MAP_WRITEABLE;
        Long got = s.call(String.format("IOAS_MAP %#x+%#x", iova, n * PAGE), expected,
                () -> s.ctx.ioasMap(s.model.ioasId, s.mm, VA + page * PAGE, n * PAGE, iova, flags));
        if (got != null) {
            s.model.areas.put(iova, n * PAGE);
            s.count("ioas maps", 1);
        }
    }

    /** A call that makes an object: its id must be the lowest free one. */
    int expectId(String what, Callable<Integer> body) {
        int id = s.model.nextId();
        Integer got = s.call(what, null, body);
        if (got != null && got != id) {
            s.fail("%s got id %d, expected %d", what, got, id);
        }
        return got == null ? 0 : got;
    }
}
