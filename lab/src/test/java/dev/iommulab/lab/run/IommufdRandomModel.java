package dev.iommulab.lab.run;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What user space knows of its iommufd context in {@link IommufdRandomTest}: the objects it holds (IOAS, fault
 * objects, HWPTs, bound devices) with their ids, and what is attached where. From it the test predicts what each
 * ioctl must answer under the kernel's rules — ids from the lowest free one ({@code XA_FLAGS_ALLOC1}), IOMMU_DESTROY
 * refused with EBUSY while an object is held and ENOENT for an unknown id (iommufd_object_remove()), attach and
 * replace refused with EINVAL for an occupied PASID or a HWPT without IOMMU_HWPT_ALLOC_PASID
 * (iommufd_hwpt_pasid_compat()) — so a wrong answer of the shim is caught, not only a broken invariant.
 */
final class IommufdRandomModel {

    /** A HWPT: its domain, the fault object its domain reports to (or null), and its flags. */
    static final class Hwpt {
        final int id;
        final IommuDomain domain;
        final Fault fault;
        final boolean pasidCompat;
        final boolean auto;
        int attachments;

        Hwpt(int id, IommuDomain domain, Fault fault, boolean pasidCompat, boolean auto) {
            this.id = id;
            this.domain = domain;
            this.fault = fault;
            this.pasidCompat = pasidCompat;
            this.auto = auto;
        }

        @Override
        public String toString() {
            return "HWPT " + id + (auto ? " (auto)" : "") + (fault != null ? " fault " + fault.ledger.faultId : "")
                    + (pasidCompat ? " pasid" : "");
        }
    }

    /** A fault object and whether its file is still open. */
    static final class Fault {
        final IommufdRandomLedger.File ledger;
        boolean open = true;

        Fault(IommufdRandomLedger.File ledger) {
            this.ledger = ledger;
        }
    }

    /** One attachment: the HWPT and the handle it published. */
    record Attach(Hwpt hwpt, AttachHandle handle) {
    }

    int ioasId;
    final Map<Integer, Fault> faults = new LinkedHashMap<>();
    final Map<Integer, Hwpt> hwpts = new TreeMap<>();
    final Map<Device, Integer> devIds = new LinkedHashMap<>();
    final Map<Device, TreeMap<Integer, Attach>> attached = new LinkedHashMap<>();
    /** IOVA → length of the areas mapped in the IOAS. */
    final TreeMap<Long, Long> areas = new TreeMap<>();
    boolean closed;

    /** The id the next new object gets: the lowest one free. */
    int nextId() {
        TreeSet<Integer> used = new TreeSet<>(hwpts.keySet());
        used.addAll(faults.keySet());
        used.addAll(devIds.values());
        if (ioasId > 0) {
            used.add(ioasId);
        }
        int id = 1;
        while (used.contains(id)) {
            id++;
        }
        return id;
    }

    TreeMap<Integer, Attach> attachments(Device dev) {
        return attached.computeIfAbsent(dev, d -> new TreeMap<>());
    }

    /**
     * iommufd_hwpt_pasid_compat() and iommufd_hwpt_compatible_device() for {@code hwpt} at {@code pasid} of
     * {@code dev}: null when allowed, else EINVAL.
     */
    Errno compat(Device dev, int pasid, Hwpt hwpt) {
        TreeMap<Integer, Attach> at = attachments(dev);
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            boolean pasids = at.keySet().stream().anyMatch(p -> p != IommuCore.IOMMU_NO_PASID);
            return !hwpt.pasidCompat && pasids ? Errno.EINVAL : null;
        }
        Attach rid = at.get(IommuCore.IOMMU_NO_PASID);
        return !hwpt.pasidCompat || rid != null && !rid.hwpt().pasidCompat ? Errno.EINVAL : null;
    }

    /** What IOMMU_DESTROY of {@code id} must answer: null (destroyed), EBUSY or ENOENT. */
    Errno destroyOutcome(int id) {
        if (devIds.containsValue(id)) {
            return Errno.EBUSY;
        }
        Hwpt h = hwpts.get(id);
        if (h != null) {
            return h.attachments > 0 ? Errno.EBUSY : null;
        }
        Fault f = faults.get(id);
        if (f != null) {
            return f.open || hwpts.values().stream().anyMatch(x -> x.fault == f) ? Errno.EBUSY : null;
        }
        if (id == ioasId && id > 0) {
            return hwpts.isEmpty() ? null : Errno.EBUSY;
        }
        return Errno.ENOENT;
    }

    /**
     * The automatic HWPT iommufd_device_auto_get_domain() picks for {@code pasid} of {@code dev}: the first automatic
     * one (by id) that may go there, or null when a new one is made.
     */
    Hwpt autoCandidate(Device dev, int pasid, boolean replace) {
        for (Hwpt h : hwpts.values()) {
            if (h.auto && (pasid == IommuCore.IOMMU_NO_PASID || h.pasidCompat) && compat(dev, pasid, h) == null
                    && (replace || !attachments(dev).containsKey(pasid))) {
                return h;
            }
        }
        return null;
    }

    /** Records an attachment at {@code pasid} (replacing what was there). */
    void link(Device dev, int pasid, Hwpt hwpt, AttachHandle handle) {
        hwpts.putIfAbsent(hwpt.id, hwpt);
        hwpt.attachments++;
        attachments(dev).put(pasid, new Attach(hwpt, handle));
    }

    /** Drops the attachment at {@code pasid}; an automatic HWPT goes with its last attachment. */
    Attach unlink(Device dev, int pasid) {
        Attach old = attachments(dev).remove(pasid);
        if (old != null && --old.hwpt().attachments == 0 && old.hwpt().auto) {
            hwpts.remove(old.hwpt().id);
        }
        return old;
    }

    /** The device is unbound: its attachments go, then its id. */
    void unbind(Device dev) {
        for (int pasid : new ArrayList<>(attachments(dev).keySet())) {
            unlink(dev, pasid);
        }
        devIds.remove(dev);
    }

    /** Whether the IOVA range overlaps a mapped area. */
    boolean mapped(long iova, long length) {
        Map.Entry<Long, Long> below = areas.floorEntry(iova + length - 1);
        return below != null && below.getKey() + below.getValue() > iova;
    }

    /** The (device, PASID) pairs attached now. */
    List<Map.Entry<Device, Integer>> attachedPairs() {
        List<Map.Entry<Device, Integer>> out = new ArrayList<>();
        attached.forEach((dev, at) -> at.keySet().forEach(p -> out.add(Map.entry(dev, p))));
        return out;
    }
}
