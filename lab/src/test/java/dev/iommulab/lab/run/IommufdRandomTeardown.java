package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What ends things in {@link IommufdRandomTest}: IOMMU_DESTROY (iommufd_object_remove(): EBUSY while held, ENOENT
 * for an unknown id; a fault object's iommufd_fault_destroy() answers what it holds INVALID), closing a fault fd
 * (answers nothing), device removal (VFIO unbind, vfio_iommufd_physical_unbind(); the lab's remove-device,
 * iopf_queue_remove_device()) and closing the context (iommufd_fops_release()), each checked for the groups it must
 * answer (linux-fault-stack.md §3.5, §5.5).
 */
final class IommufdRandomTeardown {

    private final IommufdRandomSession s;

    IommufdRandomTeardown(IommufdRandomSession s) {
        this.s = s;
    }

    /** IOMMU_DESTROY of an object user space holds, or of an id that is none. */
    void destroy() {
        List<Integer> ids = new ArrayList<>(s.model.hwpts.keySet());
        ids.addAll(s.model.faults.keySet());
        ids.addAll(s.model.devIds.values());
        if (s.model.ioasId > 0) {
            ids.add(s.model.ioasId);
        }
        destroy(ids.isEmpty() || s.random.nextInt(8) == 0 ? 1 + s.random.nextInt(20)
                : ids.get(s.random.nextInt(ids.size())));
    }

    void destroy(int id) {
        Errno expected = s.model.destroyOutcome(id);
        IommufdRandomModel.Fault fault = s.model.faults.get(id);
        int answersBefore = s.ledger.answersSeen;
        List<IommufdRandomLedger.Group> held = fault == null ? List.of()
                : s.ledger.groups.stream().filter(g -> g.file == fault.ledger && !g.answered()).toList();
        String what = "IOMMU_DESTROY " + id;
        boolean ok = s.run(what, expected, () -> s.ctx.destroy(id));
        s.count(expected == null ? "destroys" : "destroys refused " + expected, 1);
        if (!ok) {
            if (s.ledger.answersSeen != answersBefore) {
                s.fail("%s was refused but answered %d group(s)", what, s.ledger.answersSeen - answersBefore);
            }
            return;
        }
        if (s.model.hwpts.remove(id) == null && s.model.faults.remove(id) == null) {
            s.model.ioasId = 0;
        }
        s.checkFiles();
        for (IommufdRandomLedger.Group g : held) {
            if (!g.answered() || g.origin != ResponseOrigin.AUTO_RESPONSE) {
                s.fail("%s left %s %s", what, g, g.answered() ? "answered by " + g.origin.label() : "unanswered");
            }
        }
        if (fault != null) {
            s.count("fault objects destroyed", 1);
            s.count("groups answered by fault destroy", held.size());
        }
        s.note("%s -> destroyed%s", what, held.isEmpty() ? "" : ", " + held.size() + " group(s) answered");
    }

    void faultClose() {
        List<Integer> ids = new ArrayList<>(s.model.faults.keySet());
        if (!ids.isEmpty()) {
            faultClose(ids.get(s.random.nextInt(ids.size())));
        }
    }

    /** close() of fault object {@code id}'s fd: answers nothing; EBADF once closed. */
    private void faultClose(int id) {
        IommufdRandomModel.Fault f = s.model.faults.get(id);
        int before = s.ledger.answersSeen;
        boolean ok = s.run("close(fault fd " + id + ")", f.open ? null : Errno.EBADF, f.ledger.file::close);
        s.count(f.open ? "fault fds closed" : "fault fd closes refused EBADF", 1);
        if (ok) {
            f.open = false;
            if (s.ledger.answersSeen != before) {
                s.fail("closing the fault fd %d answered %d group(s)", id, s.ledger.answersSeen - before);
            }
            s.note("close(fault fd %d)", id);
        }
    }

    void retireFault() {
        List<Integer> ids = new ArrayList<>(s.model.faults.keySet());
        if (!ids.isEmpty()) {
            retireFault(ids.get(s.random.nextInt(ids.size())));
        }
    }

    /**
     * User space retires fault object {@code id}: closes its fd, detaches and destroys the HWPTs allocated with it,
     * then destroys it, so iommufd_fault_destroy() answers what it still holds (after a LEGACY_2025 replace).
     */
    void retireFault(int id) {
        IommufdRandomModel.Fault f = s.model.faults.get(id);
        s.note("retire fault object %d", id);
        if (f.open) {
            faultClose(id);
        }
        for (IommufdRandomModel.Hwpt h : List.copyOf(s.model.hwpts.values())) {
            if (h.fault != f) {
                continue;
            }
            for (Map.Entry<Device, Integer> e : s.model.attachedPairs()) {
                if (s.model.attachments(e.getKey()).get(e.getValue()).hwpt() == h) {
                    s.attachments.detach(e.getKey(), e.getValue());
                }
            }
            destroy(h.id);
        }
        destroy(id);
    }

    /**
     * Device removal: VFIO unbind (most often), then sometimes the lab's remove-device too (on no iopf queue: the
     * kernel's WARN); or the lab's remove-device alone while the device is still attached.
     */
    void removeDevice() {
        Device dev = s.randomDevice();
        Integer devId = s.model.devIds.get(dev);
        int how = s.random.nextInt(6);
        if (devId != null && how < 5) {
            List<IommufdRandomLedger.Group> before = s.ledger.unanswered(dev);
            boolean ok = s.run("unbind " + dev.name(), null, () -> s.ctx.unbindDevice(devId));
            s.count("unbinds", 1);
            if (ok) {
                s.model.unbind(dev);
                s.checkFiles();
                answeredAll("unbind " + dev.name(), dev, before);
                s.note("unbind %s -> %d group(s) answered", dev.name(), before.size());
            }
            if (how < 3) {
                return;
            }
        }
        List<IommufdRandomLedger.Group> before = s.ledger.unanswered(dev);
        boolean onQueue = s.iopf.queueOf(dev) != null;
        s.note("remove-device %s%s", dev.name(), onQueue ? "" : " (on no iopf queue: WARN)");
        s.iopf.queueRemoveDevice(s.iopf.queueOf(dev), dev);
        s.count(onQueue ? "remove-device" : "remove-device off queue", 1);
        answeredAll("remove-device " + dev.name(), dev, before);
    }

    /** After a device removal: every group the device had is answered and none is pending. */
    private void answeredAll(String what, Device dev, List<IommufdRandomLedger.Group> before) {
        for (IommufdRandomLedger.Group g : before) {
            if (!g.answered()) {
                s.fail("%s left %s unanswered", what, g);
            }
        }
        if (s.iopf.pendingGroups(dev) != 0) {
            s.fail("%s left %d pending group(s)", what, s.iopf.pendingGroups(dev));
        }
        s.count("groups answered by device removal", before.size());
    }

    /** The process closes /dev/iommu: every group of every fault object is answered; later ioctls are EBADF. */
    void closeContext() {
        boolean ok = s.run("close iommufd", null, s.ctx::close);
        s.count("context closes", 1);
        if (!ok) {
            return;
        }
        s.model.closed = true;
        s.checkFiles();
        for (IommufdRandomLedger.Group g : s.ledger.groups) {
            if (!g.answered()) {
                s.fail("closing the context left %s unanswered", g);
            }
        }
        for (IommufdRandomLedger.File f : s.files) {
            if (!f.deliver.isEmpty() || !f.response.isEmpty()) {
                s.fail("closing the context left groups in fault object %d", f.faultId);
            }
        }
        s.run("IOAS_ALLOC after close", Errno.EBADF, s.ctx::ioasAlloc);
    }
}
