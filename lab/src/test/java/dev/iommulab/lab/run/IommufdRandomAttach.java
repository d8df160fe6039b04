package dev.iommulab.lab.run;

import static dev.iommulab.lab.run.IommufdRandomSession.NO_PASID;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.vfio.Iommufd;
import java.util.List;
import java.util.Map;

/**
 * Attach, replace and detach at the RID and at PASIDs (iommufd_device_attach(), iommufd_device_replace(),
 * iommufd_device_detach()) for {@link IommufdRandomTest}, with their refusals predicted, and the groups they answer
 * checked: the old attachment's groups INVALID once (iommufd_auto_response_faults(); with LEGACY_2025 a replace
 * leaves them when the new HWPT has another fault object), all of the device's when it leaves its iopf queue, and
 * nobody else's (linux-fault-stack.md §5.5).
 */
final class IommufdRandomAttach {

    private final IommufdRandomSession s;

    IommufdRandomAttach(IommufdRandomSession s) {
        this.s = s;
    }

    void attach(Device dev, int pasid, int ptId) {
        Integer devId = s.model.devIds.get(dev);
        IommufdRandomModel.Hwpt hwpt = s.model.hwpts.get(ptId);
        boolean ioas = ptId == s.model.ioasId && ptId > 0;
        IommufdRandomModel.Hwpt auto = ioas && devId != null ? s.model.autoCandidate(dev, pasid, false) : null;
        Errno expected;
        if (devId == null) {
            expected = Errno.ENOENT;
        } else if (hwpt == null && !ioas) {
            expected = s.model.faults.containsKey(ptId) ? Errno.EINVAL : Errno.ENOENT;
        } else if (s.model.attachments(dev).containsKey(pasid)) {
            expected = Errno.EINVAL;
        } else if (hwpt != null) {
            expected = s.model.compat(dev, pasid, hwpt);
        } else {
            expected = auto != null ? null : newAutoCompat(dev, pasid);
        }
        int newId = s.model.nextId();
        String what = String.format("attach(%s, PASID %d, pt %d)", dev.name(), pasid, ptId);
        Integer got = s.call(what, expected, () -> s.ctx.attach(devId == null ? 40 + s.random.nextInt(9) : devId,
                pasid, ptId));
        s.count(expected == null ? "attaches" : "attaches refused " + expected, 1);
        if (got != null) {
            linked(dev, pasid, what, got, hwpt != null ? hwpt : auto, newId);
        }
    }

    /** Whether a new automatic HWPT (ALLOC_PASID only at a PASID) may go to {@code pasid} of {@code dev}. */
    private Errno newAutoCompat(Device dev, int pasid) {
        IommufdRandomModel.Hwpt fresh = new IommufdRandomModel.Hwpt(0, null, null, pasid != NO_PASID, true);
        return s.model.compat(dev, pasid, fresh);
    }

    /** Records the attachment {@code got} at {@code pasid}; an automatic HWPT is the predicted one or a new id. */
    private void linked(Device dev, int pasid, String what, int got, IommufdRandomModel.Hwpt known, int newId) {
        IommufdRandomModel.Hwpt h = known;
        if (h == null) {
            if (got != newId) {
                s.fail("%s: the new automatic HWPT got id %d, expected %d", what, got, newId);
            }
            h = new IommufdRandomModel.Hwpt(got, s.ctx.hwptDomain(got), null, pasid != NO_PASID, true);
        } else if (h.id != got) {
            s.fail("%s attached HWPT %d, expected %d", what, got, h.id);
        }
        AttachHandle handle = s.core.attachHandleGet(dev.group(), pasid, null);
        if (handle.domain() != h.domain) {
            s.fail("%s: the handle at PASID %d names another domain", what, pasid);
        }
        s.model.link(dev, pasid, h, handle);
        s.ledger.attached(handle, s.model.devIds.get(dev));
        s.note("%s -> %s", what, h);
    }

    /** Detaches an attachment (sometimes a PASID with none: EINVAL, or an unbound device: ENOENT). */
    void detach() {
        List<Map.Entry<Device, Integer>> pairs = s.model.attachedPairs();
        if (pairs.isEmpty() || s.random.nextInt(8) == 0) {
            detach(s.randomDevice(), s.randomPasid());
        } else {
            Map.Entry<Device, Integer> e = pairs.get(s.random.nextInt(pairs.size()));
            detach(e.getKey(), e.getValue());
        }
    }

    void detach(Device dev, int pasid) {
        Integer devId = s.model.devIds.get(dev);
        IommufdRandomModel.Attach old = s.model.attachments(dev).get(pasid);
        Errno expected = devId == null ? Errno.ENOENT : old == null ? Errno.EINVAL : null;
        List<IommufdRandomLedger.Group> before = s.ledger.unanswered(dev);
        String what = String.format("detach(%s, PASID %d)", dev.name(), pasid);
        boolean ok = s.run(what, expected, () -> s.ctx.detach(devId == null ? 60 : devId, pasid));
        s.count(expected == null ? "detaches" : "detaches refused " + expected, 1);
        if (ok) {
            s.model.unlink(dev, pasid);
            s.checkFiles();
            checkLeft(what, dev, before, old.handle(), true);
        }
    }

    /**
     * Replaces an attachment by another HWPT (often one of another fault object), a fault-capable one, any page
     * table, or at a PASID with nothing attached (EINVAL).
     */
    void replace() {
        List<Map.Entry<Device, Integer>> pairs = s.model.attachedPairs();
        if (pairs.isEmpty()) {
            return;
        }
        Map.Entry<Device, Integer> e = pairs.get(s.random.nextInt(pairs.size()));
        Device dev = e.getKey();
        int pasid = s.random.nextInt(10) == 0 ? 7 : e.getValue();
        IommufdRandomModel.Attach old = s.model.attachments(dev).get(pasid);
        int ptId = s.random.nextBoolean() ? s.objects.otherFaultHwpt(old)
                : s.random.nextBoolean() ? s.objects.faultCapableHwpt() : s.objects.anyPt();
        IommufdRandomModel.Hwpt hwpt = s.model.hwpts.get(ptId);
        boolean ioas = ptId == s.model.ioasId && ptId > 0;
        IommufdRandomModel.Hwpt target = hwpt != null ? hwpt : ioas ? s.model.autoCandidate(dev, pasid, true) : null;
        Errno expected = expectedReplace(dev, pasid, ptId, old, target, ioas);
        int newId = s.model.nextId();
        List<IommufdRandomLedger.Group> before = s.ledger.unanswered(dev);
        String what = String.format("replace(%s, PASID %d, pt %d)", dev.name(), pasid, ptId);
        Integer got = s.call(what, expected, () -> s.ctx.replace(s.model.devIds.get(dev), pasid, ptId));
        s.count(expected == null ? "replaces" : "replaces refused " + expected, 1);
        if (got != null) {
            replaced(dev, pasid, what, got, old, target, newId, before);
        }
    }

    /** iommufd_device_replace()'s answer: as attach, but it needs something attached and the same HWPT is a no-op. */
    private Errno expectedReplace(Device dev, int pasid, int ptId, IommufdRandomModel.Attach old,
                                  IommufdRandomModel.Hwpt target, boolean ioas) {
        if (target == null && !ioas) {
            return s.model.faults.containsKey(ptId) ? Errno.EINVAL : Errno.ENOENT;
        }
        if (old == null) {
            return Errno.EINVAL;
        }
        if (target != null) {
            return old.hwpt() == target ? null : s.model.compat(dev, pasid, target);
        }
        return newAutoCompat(dev, pasid);
    }

    private void replaced(Device dev, int pasid, String what, int got, IommufdRandomModel.Attach old,
                          IommufdRandomModel.Hwpt target, int newId, List<IommufdRandomLedger.Group> before) {
        if (target == old.hwpt()) {
            if (got != target.id) {
                s.fail("%s returned %d, expected %d", what, got, target.id);
            }
            for (IommufdRandomLedger.Group g : before) {
                if (g.answered()) {
                    s.fail("%s answered %s", what, g);
                }
            }
            s.note("%s -> unchanged", what);
            return;
        }
        s.model.unlink(dev, pasid);
        linked(dev, pasid, what, got, target, newId);
        s.checkFiles();
        IommufdRandomModel.Hwpt now = s.model.attachments(dev).get(pasid).hwpt();
        boolean answersOld = s.mode == Iommufd.ReplaceAutoResponse.INTENDED || now.fault == old.hwpt().fault;
        int left = checkLeft(what, dev, before, old.handle(), answersOld);
        if (left > 0 && s.random.nextBoolean()) {
            // the groups the 2025 replace missed wait in the old fault object until it goes
            s.model.faults.entrySet().stream().filter(f -> f.getValue() == old.hwpt().fault).findFirst()
                    .ifPresent(f -> s.teardown.retireFault(f.getKey()));
        }
    }

    /**
     * After a detach or replace: the old attachment's groups are answered when {@code answersOld}; if the device left
     * its iopf queue (its last fault-capable attachment went) all of its groups are; the others' groups are not.
     *
     * @return how many groups of the old attachment are left unanswered
     */
    private int checkLeft(String what, Device dev, List<IommufdRandomLedger.Group> before, AttachHandle old,
                          boolean answersOld) {
        boolean offQueue = s.iopf.queueOf(dev) == null;
        int answered = 0;
        int kept = 0;
        for (IommufdRandomLedger.Group g : before) {
            boolean mustGo = offQueue || answersOld && g.handle == old;
            if (mustGo && !g.answered()) {
                s.fail("%s left %s unanswered", what, g);
            } else if (!mustGo && g.answered() && g.origin != ResponseOrigin.IOMMUFD) {
                s.fail("%s answered %s of another attachment (%s)", what, g, g.origin.label());
            }
            answered += g.answered() ? 1 : 0;
            kept += !g.answered() && g.handle == old ? 1 : 0;
        }
        s.count("groups answered by detach/replace", answered);
        if (kept > 0) {
            s.count("groups left by a LEGACY_2025 replace", kept);
        }
        s.note("%s -> %d group(s) answered%s", what, answered, offQueue ? ", device off its iopf queue" : "");
        return kept;
    }
}
