package dev.iommulab.iopf.random;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * What io-pgfault should hold, as the kernel does it (reference §2.2, §3): per device whether it is on the
 * queue and its parked partials in arrival order; the armed allocation failures; each accepted group
 * (answered? freed?); the workqueue items and the flushes waiting on them.
 */
final class Model {

    /** Reports a violation. */
    interface Violations {
        void violation(String format, Object... args);
    }

    private static final class DevState {
        boolean onQueue = true;
        int incarnation;
        final List<IommuFault> parked = new ArrayList<>();
    }

    private static final class GroupState {
        final Device dev;
        final int incarnation;
        final PageResponseCode code;
        boolean answered;
        boolean freed;

        GroupState(Device dev, int incarnation, PageResponseCode code) {
            this.dev = dev;
            this.incarnation = incarnation;
            this.code = code;
        }
    }

    private static final class Work {
        final GroupState group;
        boolean finished;
        long finishedAt;

        Work(GroupState group) {
            this.group = group;
        }
    }

    /** A flush_dev call: the work items outstanding when it was made. */
    static final class Flush {
        final int id;
        final boolean expectEnodev;
        final List<Work> awaited;
        int continued;

        Flush(int id, boolean expectEnodev, List<Work> awaited) {
            this.id = id;
            this.expectEnodev = expectEnodev;
            this.awaited = awaited;
        }
    }

    private final RandomMachine m;
    private final Violations v;
    private final Map<Device, DevState> devices = new HashMap<>();
    private final Map<IommuFault, GroupState> groups = new IdentityHashMap<>();
    private final List<Work> works = new ArrayList<>();
    private final List<Flush> flushes = new ArrayList<>();
    private int armedGroup;
    private int armedPartial;

    Model(RandomMachine m, Violations v) {
        this.m = m;
        this.v = v;
    }

    private DevState dev(Device dev) {
        return devices.computeIfAbsent(dev, d -> new DevState());
    }

    boolean onQueue(Device dev) {
        return dev(dev).onQueue;
    }

    List<IommuFault> parked(Device dev) {
        return dev(dev).parked;
    }

    void armGroupFailures(int n) {
        armedGroup += n;
    }

    void armPartialFailures(int n) {
        armedPartial += n;
    }

    boolean consumeGroupFailure() {
        return armedGroup > 0 && armedGroup-- > 0;
    }

    boolean consumePartialFailure() {
        return armedPartial > 0 && armedPartial-- > 0;
    }

    void park(Device dev, IommuFault evt) {
        dev(dev).parked.add(evt);
    }

    /** iopf_group_alloc() under grpid-only matching: the parked partials of the LPIG's grpid, then the LPIG. */
    List<IommuFault> takeGroup(Device dev, IommuFault lpig) {
        List<IommuFault> group = new ArrayList<>();
        dev(dev).parked.removeIf(p -> {
            if (p.grpid() == lpig.grpid()) {
                group.add(p);
                return true;
            }
            return false;
        });
        group.add(lpig);
        return group;
    }

    void accepted(IopfGroup group, PageResponseCode code) {
        groups.put(group.lastFault(), new GroupState(group.device(), dev(group.device()).incarnation, code));
    }

    PageResponseCode expectedCode(IommuFault lpig) {
        GroupState g = groups.get(lpig);
        return g == null ? null : g.code;
    }

    void answered(IommuFault lpig) {
        GroupState g = groups.get(lpig);
        if (g == null || g.answered) {
            v.violation("answer for group %s which is %s", Ledger.describe(lpig),
                    g == null ? "not accepted by a handler" : "already answered");
            return;
        }
        g.answered = true;
    }

    /** Groups of the device's current param that are still owed a response. */
    int unanswered(Device dev) {
        int inc = dev(dev).incarnation;
        return (int) groups.values().stream().filter(g -> g.dev == dev && g.incarnation == inc && !g.answered).count();
    }

    /** Groups of the device's current param not yet freed (each holds a fault_param reference). */
    int live(Device dev) {
        int inc = dev(dev).incarnation;
        return (int) groups.values().stream().filter(g -> g.dev == dev && g.incarnation == inc && !g.freed).count();
    }

    void removed(Device dev) {
        DevState d = dev(dev);
        d.onQueue = false;
        d.parked.clear();
        groups.values().stream().filter(g -> g.dev == dev && g.incarnation == d.incarnation).forEach(g -> g.freed = true);
    }

    void added(Device dev) {
        DevState d = dev(dev);
        d.onQueue = true;
        d.incarnation++;
        d.parked.clear();
    }

    void discarded() {
        devices.values().stream().filter(d -> d.onQueue).forEach(d -> d.parked.clear());
    }

    // ---- workqueue ----------------------------------------------------------------------------------

    /** The SVA handler queued the work of {@code group}; returns its index. */
    int workQueued(IopfGroup group) {
        works.add(new Work(groups.get(group.lastFault())));
        return works.size() - 1;
    }

    /** The work item ran (answered, if still owed, and freed its group). */
    void workFinished(int index) {
        Work w = works.get(index);
        w.finished = true;
        w.finishedAt = m.loop.now();
        if (!w.group.answered) {
            v.violation("work of a group finished but the group is still unanswered");
        }
        w.group.freed = true;
    }

    /** Pending work items right now (what a flush must wait for). */
    Flush flushRequested(Device dev) {
        Flush f = new Flush(flushes.size(), !onQueue(dev), works.stream().filter(w -> !w.finished).toList());
        flushes.add(f);
        return f;
    }

    void flushContinued(Flush f) {
        f.continued++;
        if (f.expectEnodev) {
            v.violation("flush #%d of a device without param continued", f.id);
        }
        long last = -1;
        for (Work w : f.awaited) {
            if (!w.finished) {
                v.violation("flush #%d continued before work queued before it finished", f.id);
                return;
            }
            last = Math.max(last, w.finishedAt);
        }
        if (last >= 0 && last != m.loop.now()) {
            v.violation("flush #%d continued at %d ns, its last awaited work finished at %d ns", f.id, m.loop.now(),
                    last);
        }
    }

    boolean flushWaits(Flush f) {
        return !f.awaited.isEmpty();
    }

    void finish() {
        if (works.stream().anyMatch(w -> !w.finished)) {
            v.violation("work items still unfinished after drain");
        }
        for (Flush f : flushes) {
            if (f.continued != (f.expectEnodev ? 0 : 1)) {
                v.violation("flush #%d continued %d time(s)", f.id, f.continued);
            }
        }
    }
}
