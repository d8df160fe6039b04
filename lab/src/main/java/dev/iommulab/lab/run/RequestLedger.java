package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.lab.run.Invariants.GroupId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The invariants of linux-fault-stack.md §8b about requests and groups, judged as the events happen. What was seen
 * of a request is kept while it is in flight: from the moment the core receives it until it is settled — an LPIG
 * request reported and answered, a partial reported and taken into a group (or answered) — and then forgotten, so
 * the ledger holds what is in flight and the violations found, never the requests that went before. Each group's
 * balance of reports and answers is kept per device, PASID and grpid while it is not zero.
 *
 * <p>A request seen again after it was settled (the same fault object answered or handed over once more) is judged
 * as a request never seen: its group's balance still counts the extra answer, and a partial handed over twice is
 * named as not parked for its device. Violations are listed in the order they happened.
 */
final class RequestLedger {

    /** What is known of one request in flight. */
    private static final class Seen {
        final IommuFault fault;
        boolean reported;
        Device reportedFor;
        int reportEpoch;
        long seq;
        long reportedAtNs;
        boolean closedDispatchedGroup;
        boolean takenIntoGroup;
        boolean answered;
        /** The device among whose live groups this LPIG request is, or null. */
        Device liveIn;

        Seen(IommuFault fault) {
            this.fault = fault;
        }
    }

    /** LPIG reports minus answers (other than the driver's) of one group, with the steps a violation names. */
    private static final class Balance {
        int owed;
        String firstReportStep;
        String lastAnswerStep;
    }

    /** A group left unanswered when its device left its iopf queue; a violation unless answered by the end. */
    private record Suspect(Device dev, Seen last, String step) {
    }

    /** The codes each origin may send (§8b.7). */
    private final Map<ResponseOrigin, Set<PageResponseCode>> allowed = new EnumMap<>(ResponseOrigin.class);
    private final Map<IommuFault, Seen> open = new IdentityHashMap<>();
    private final Map<GroupId, Balance> balances = new LinkedHashMap<>();
    /** Per device, its groups handed to a handler in its current epoch and not answered: LPIG request to count. */
    private final Map<Device, Map<Seen, Integer>> live = new HashMap<>();
    private final List<Suspect> suspects = new ArrayList<>();
    private long seq;
    /** Elements visited, for {@link Observations#work()}. */
    long work;

    final List<String> nonLpigAnswered = new ArrayList<>();
    final List<String> misaddressed = new ArrayList<>();
    final List<String> badGroups = new ArrayList<>();
    final List<String> codesByOrigin = new ArrayList<>();
    private final List<String> heldAcrossRemoval = new ArrayList<>();

    /**
     * {@code abortCode}: what {@code err_abort} must send (the abort policy; the kernel's is FAILURE), or null when
     * either FAILURE or INVALID is acceptable.
     */
    RequestLedger(PageResponseCode abortCode) {
        for (ResponseOrigin origin : ResponseOrigin.values()) {
            allowed.put(origin, allowed(origin, abortCode));
        }
    }

    /** iommu_report_device_fault() was entered with {@code fault}. */
    void received(IommuFault fault) {
        work++;
        seen(fault);
    }

    /** iommu_report_device_fault() returned for {@code fault} of {@code dev}. */
    void reported(Device dev, IommuFault fault, String step, int epoch, long atNs) {
        work++;
        Seen s = seen(fault);
        s.reported = true;
        s.reportedFor = dev;
        s.reportEpoch = epoch;
        s.seq = seq++;
        s.reportedAtNs = atNs;
        if (fault.lastPage()) {
            GroupId key = GroupId.of(dev, fault);
            Balance b = balances.computeIfAbsent(key, k -> new Balance());
            if (b.firstReportStep == null) {
                b.firstReportStep = step;
            }
            owe(key, b, 1);
        }
        settleIfDone(s);
    }

    /**
     * A group was handed to its handler: checks it holds every earlier partial of its grpid in arrival order, each
     * parked in this epoch (§8b.2, §3.5), and counts it among the device's live groups until it is answered.
     */
    void dispatched(Device dev, List<IommuFault> faults, List<IommuFault> leftBehind, String step, int epoch) {
        work += faults.size();
        IommuFault last = faults.get(faults.size() - 1);
        Supplier<String> name = () -> Invariants.group(dev, last) + " (step " + step + ")";
        if (!last.lastPage()) {
            badGroups.add(name.get() + ": last entry is not the LPIG request");
        }
        long previous = -1;
        for (IommuFault f : faults.subList(0, faults.size() - 1)) {
            Seen s = open.get(f);
            if (f.lastPage() || f.grpid() != last.grpid()) {
                badGroups.add(name.get() + ": holds a request of grpid " + f.grpid()
                        + (f.lastPage() ? " (LPIG)" : ""));
            } else if (s == null) {
                badGroups.add(name.get() + String.format(": holds %#x, not parked for this device (never reported, or"
                        + " taken into an earlier group)", f.addr()));
            } else if (!s.reported || s.reportedFor != dev) {
                badGroups.add(name.get() + String.format(": holds %#x, never reported for this device", f.addr()));
            } else if (s.seq < previous) {
                badGroups.add(name.get() + String.format(": %#x is out of arrival order", f.addr()));
            }
            previous = s == null || !s.reported ? previous : Math.max(previous, s.seq);
        }
        leftBehind.forEach(p -> badGroups.add(name.get() + String.format(": partial %#x left behind", p.addr())));
        for (IommuFault f : faults) {
            Seen s = open.get(f);
            if (s != null && s.reported && s.reportEpoch < epoch) {
                heldAcrossRemoval.add(Invariants.group(dev, last) + String.format(
                        " holds partial %#x parked before the device left its iopf queue (step %s)", f.addr(), step));
            }
        }
        for (IommuFault f : faults.subList(0, faults.size() - 1)) {
            Seen s = open.get(f);
            if (s != null) {
                s.takenIntoGroup = true;
                settleIfDone(s);
            }
        }
        Seen lastSeen = seen(last);
        lastSeen.closedDispatchedGroup = true;
        if (!lastSeen.answered) {
            live.computeIfAbsent(dev, k -> new LinkedHashMap<>()).merge(lastSeen, 1, Integer::sum);
            lastSeen.liveIn = dev;
        }
    }

    /**
     * Software decided {@code response} to {@code evt} during {@code step}: judges who answered what (§8b.1, §8b.2,
     * §8b.7) and settles the request.
     *
     * @return when {@code evt} was reported to the core, or null when it was not
     */
    Long answered(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin, String step) {
        work++;
        Seen s = open.get(evt);
        if (!evt.lastPage() && origin != ResponseOrigin.BAD_SETUP && origin != ResponseOrigin.DRIVER) {
            nonLpigAnswered.add(Invariants.group(dev, evt) + " answered by " + origin.label() + " (step " + step + ")");
        }
        if (response.grpid() != evt.grpid() || (evt.pasidValid() && response.pasid() != evt.pasid())) {
            misaddressed.add(Invariants.group(dev, evt) + " answered as PASID " + response.pasid() + " grpid "
                    + response.grpid() + " (step " + step + ")");
        } else if ((origin == ResponseOrigin.SVA || origin == ResponseOrigin.IOMMUFD)
                && (s == null || !s.closedDispatchedGroup)) {
            misaddressed.add(Invariants.group(dev, evt) + " answered by " + origin.label()
                    + " for a request that closed no group handed to it (step " + step + ")");
        }
        if (!allowed.get(origin).contains(response.code())) {
            codesByOrigin.add(Invariants.group(dev, evt) + " got " + response.code() + " from " + origin.label()
                    + ", allowed " + allowed.get(origin) + " (step " + step + ")");
        }
        if (evt.lastPage() && origin != ResponseOrigin.DRIVER) {
            GroupId key = GroupId.of(dev, evt);
            Balance b = balances.computeIfAbsent(key, k -> new Balance());
            b.lastAnswerStep = step;
            owe(key, b, -1);
        }
        if (s == null) {
            return null;
        }
        s.answered = true;
        if (s.liveIn != null) {
            live.get(s.liveIn).remove(s);
            s.liveIn = null;
        }
        Long reportedAt = s.reported ? s.reportedAtNs : null;
        settleIfDone(s);
        return reportedAt;
    }

    /** §8b.7: who may send which code. */
    private static Set<PageResponseCode> allowed(ResponseOrigin origin, PageResponseCode abortCode) {
        return switch (origin) {
            case SVA, IOMMUFD -> EnumSet.of(PageResponseCode.SUCCESS, PageResponseCode.INVALID);
            case AUTO_RESPONSE, BAD_SETUP, REMOVE_DEVICE -> EnumSet.of(PageResponseCode.INVALID);
            case ABORT -> abortCode == null ? EnumSet.of(PageResponseCode.FAILURE, PageResponseCode.INVALID)
                    : EnumSet.of(abortCode);
            default -> EnumSet.allOf(PageResponseCode.class);
        };
    }

    /**
     * {@code dev} left its iopf queue during {@code step}: its live groups become suspects, violations unless
     * answered by the end of the run (§3.5).
     */
    void deviceLeft(Device dev, String step) {
        Map<Seen, Integer> ended = live.remove(dev);
        if (ended == null) {
            return;
        }
        work += ended.size();
        ended.forEach((s, n) -> {
            s.liveIn = null;
            for (int i = 0; i < n; i++) {
                suspects.add(new Suspect(dev, s, step));
            }
        });
    }

    /** Groups of {@code dev} handed to a handler in its current epoch and not answered yet. */
    long liveGroups(Device dev) {
        Map<Seen, Integer> groups = live.getOrDefault(dev, Map.of());
        work += groups.size();
        return groups.values().stream().mapToLong(Integer::longValue).sum();
    }

    /**
     * Whether {@code fault}, the LPIG request of a group handed over, was answered: it is answered, or it is settled
     * (a request handed over is settled only once answered).
     */
    boolean answeredOrSettled(IommuFault fault) {
        work++;
        Seen s = open.get(fault);
        return s == null || s.answered;
    }

    /** Each group whose balance is not zero, with the step a violation names, in the order the groups were met. */
    void forEachOwed(OwedConsumer action) {
        work += balances.size();
        balances.forEach((key, b) -> action.accept(key, b.owed, b.owed > 0 ? b.firstReportStep : b.lastAnswerStep));
    }

    /** Receives a group's balance. */
    interface OwedConsumer {
        void accept(GroupId group, int owed, String step);
    }

    /** §3.5: groups still unanswered after their device left its iopf queue, then partials that outlived it. */
    List<String> outlivedRemoval() {
        work += suspects.size();
        List<String> bad = new ArrayList<>();
        suspects.stream().filter(x -> !x.last().answered).forEach(x -> bad.add(Invariants.group(x.dev(),
                x.last().fault) + " still unanswered after the device left its iopf queue (step " + x.step() + ")"));
        bad.addAll(heldAcrossRemoval);
        return bad;
    }

    /** Requests in flight plus groups whose balance is not zero: what the ledger holds now. */
    int held() {
        return open.size() + balances.size();
    }

    private void owe(GroupId key, Balance b, int delta) {
        b.owed += delta;
        if (b.owed == 0) {
            balances.remove(key);
        }
    }

    private Seen seen(IommuFault fault) {
        return open.computeIfAbsent(fault, Seen::new);
    }

    /** Forgets a request nothing more is expected of. */
    private void settleIfDone(Seen s) {
        boolean done = s.reported && (s.fault.lastPage() ? s.answered : s.answered || s.takenIntoGroup);
        if (done && s.liveIn == null) {
            open.remove(s.fault);
        }
    }
}
