package dev.iommulab.iopf.random;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.iopf.random.RandomMachine.HandlerKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The invariants of linux-fault-stack.md §8b at the io-pgfault level, checked against a model of what the
 * kernel does (default policies: grpid-only matching, err_abort FAILURE). It sees io-pgfault only through
 * {@link FaultEvents}, the recording driver ({@link RandomMachine#ops}), the test's own handlers and
 * Iopf's public counters; {@link Model} keeps the expected partial lists and groups, {@link Ledger} every
 * report and its answers. Violations are collected, not thrown, so io-pgfault is never interrupted.
 */
final class InterleavingChecker implements FaultEvents.Listener, RandomMachine.ResponseSink {

    /** What a report must lead to. */
    enum Outcome { BAD_SETUP, LOST, PARKED, ABORT, DISPATCH }

    private final RandomMachine m;
    private final Model model;
    private final Ledger ledger;
    private final List<String> violations = new ArrayList<>();
    private final Stats stats;
    private String step = "setup";
    private ResponseOrigin pendingOrigin;
    private IommuFault pendingEvt;
    // the report in progress
    private IommuFault reporting;
    private Outcome expected;
    private HandlerKind expectedKind;
    private List<IommuFault> expectedGroup;
    private boolean dispatched;
    private Integer reportedRet;
    private Device removing;

    InterleavingChecker(RandomMachine m, Stats stats) {
        this.m = m;
        this.stats = stats;
        this.model = new Model(m, this::violation);
        this.ledger = new Ledger();
    }

    Model model() {
        return model;
    }

    List<String> violations() {
        return violations;
    }

    void step(String description) {
        step = description;
    }

    void violation(String format, Object... args) {
        if (violations.size() < 20) {
            violations.add(step + ": " + String.format(format, args));
        }
    }

    // ---- reports ------------------------------------------------------------------------------------

    /** Before {@code evt} is reported on {@code dev}: what must happen. */
    void beforeReport(Device dev, IommuFault evt) {
        ledger.reported(dev, evt);
        reporting = evt;
        dispatched = false;
        reportedRet = null;
        expectedKind = m.handlerAt(dev, evt.pasid());
        expectedGroup = null;
        if (expectedKind == null || !model.onQueue(dev)) {
            expected = Outcome.BAD_SETUP;
        } else if (!evt.lastPage()) {
            expected = model.consumePartialFailure() ? Outcome.LOST : Outcome.PARKED;
        } else {
            expectedGroup = model.takeGroup(dev, evt);
            expected = model.consumeGroupFailure() ? Outcome.ABORT : Outcome.DISPATCH;
        }
    }

    /** After the report returned {@code ret}: it did what {@link #beforeReport} expected. */
    void afterReport(Device dev, IommuFault evt, int ret) {
        if (reportedRet == null || reportedRet != ret) {
            violation("report returned %d but FaultEvents saw %s", ret, reportedRet);
        }
        List<String> answers = ledger.answers(evt);
        switch (expected) {
            case BAD_SETUP -> expect(ret, Errno.EINVAL.negative(), answers, "bad-setup INVALID");
            case LOST -> expect(ret, Errno.ENOMEM.negative(), answers);
            case PARKED -> {
                expect(ret, 0, answers);
                model.park(dev, evt);
            }
            case ABORT -> {
                expect(ret, 0, answers, "abort FAILURE");
                if (dispatched) {
                    violation("group of failed allocation was dispatched");
                }
            }
            case DISPATCH -> {
                if (!dispatched) {
                    violation("LPIG %s was not dispatched", Ledger.describe(evt));
                }
                expect(ret, 0, answers, expectedKind == HandlerKind.REFUSE ? new String[] {"abort FAILURE"}
                        : new String[0]);
            }
        }
        stats.outcome(expected, expectedGroup);
        reporting = null;
    }

    private void expect(int ret, int expectedRet, List<String> answers, String... expectedAnswers) {
        if (ret != expectedRet) {
            violation("%s report of %s returned %d, expected %d", expected, Ledger.describe(reporting), ret,
                    expectedRet);
        }
        if (!answers.equals(List.of(expectedAnswers))) {
            violation("%s report of %s answered %s, expected %s", expected, Ledger.describe(reporting), answers,
                    List.of(expectedAnswers));
        }
    }

    @Override
    public void faultReported(Device dev, IommuFault fault, int ret) {
        if (fault != reporting) {
            violation("faultReported for %s outside its report", Ledger.describe(fault));
        }
        reportedRet = ret;
    }

    @Override
    public void groupDispatched(Device dev, List<IommuFault> faults) {
        if (expected != Outcome.DISPATCH || dispatched) {
            violation("unexpected dispatch of %s (expected %s)", Ledger.describe(faults), expected);
            return;
        }
        dispatched = true;
        if (!Ledger.sameFaults(faults, expectedGroup)) {
            violation("group dispatched as %s, expected %s", Ledger.describe(faults), Ledger.describe(expectedGroup));
        }
    }

    /** The test's SVA handler accepted {@code group}; its work will answer {@code code}. */
    void accepted(IopfGroup group, PageResponseCode code) {
        if (group.lastFault() != reporting || !Ledger.sameFaults(group.faults(), expectedGroup)) {
            violation("handler got %s, expected %s", Ledger.describe(group.faults()), Ledger.describe(expectedGroup));
        }
        model.accepted(group, code);
    }

    // ---- responses ----------------------------------------------------------------------------------

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        if (pendingEvt != null) {
            violation("response event for %s not followed by page_response", Ledger.describe(pendingEvt));
        }
        pendingEvt = evt;
        pendingOrigin = origin;
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        ResponseOrigin origin = pendingEvt == evt ? pendingOrigin : null;
        pendingEvt = null;
        pendingOrigin = null;
        stats.responses++;
        String what = Ledger.describe(evt);
        if (origin == null) {
            violation("page_response %s for %s without io-pgfault's response event", msg.code(), what);
        }
        if (!ledger.known(evt) || ledger.device(evt) != dev) {
            violation("page_response for %s on %s, which was never reported there", what, dev.name());
            return;
        }
        if (msg.pasid() != evt.pasid() || msg.grpid() != evt.grpid()) {
            violation("response PASID %d grpid %d for %s", msg.pasid(), msg.grpid(), what);
        }
        String answer = (origin == null ? "bypass" : origin.label()) + " " + msg.code();
        int count = ledger.answer(evt, answer);
        if (!evt.lastPage() && origin != ResponseOrigin.BAD_SETUP) {
            violation("non-LPIG %s answered %s", what, answer);
        }
        if (evt.lastPage() && count > 1) {
            violation("LPIG %s answered twice: %s", what, ledger.answers(evt));
        }
        if (origin != null) {
            checkOrigin(dev, evt, msg.code(), origin);
        }
    }

    private void checkOrigin(Device dev, IommuFault evt, PageResponseCode code, ResponseOrigin origin) {
        PageResponseCode want = switch (origin) {
            case BAD_SETUP, REMOVE_DEVICE -> PageResponseCode.INVALID;
            case ABORT -> PageResponseCode.FAILURE;
            case SVA -> model.expectedCode(evt);
            default -> null;
        };
        if (want == null || code != want) {
            violation("%s answered %s by %s, expected %s", Ledger.describe(evt), code, origin.label(),
                    want == null ? "no such origin" : want);
        }
        boolean inReport = evt == reporting;
        if ((origin == ResponseOrigin.BAD_SETUP || origin == ResponseOrigin.ABORT) && !inReport) {
            violation("%s answered by %s outside its report", Ledger.describe(evt), origin.label());
        }
        if (origin == ResponseOrigin.REMOVE_DEVICE && removing != dev) {
            violation("%s answered by remove-device outside iopf_queue_remove_device", Ledger.describe(evt));
        }
        if (origin == ResponseOrigin.SVA || origin == ResponseOrigin.REMOVE_DEVICE) {
            model.answered(evt);
        }
    }

    // ---- queue operations ---------------------------------------------------------------------------

    void beforeRemove(Device dev) {
        removing = dev;
        stats.pendingAtRemove += model.onQueue(dev) ? model.unanswered(dev) : 0;
    }

    /** After iopf_queue_remove_device: every group it owed was answered by it, nothing of the device left. */
    void afterRemove(Device dev, boolean wasOnQueue) {
        removing = null;
        if (wasOnQueue) {
            if (model.unanswered(dev) != 0) {
                violation("%d group(s) of %s still unanswered after remove_device", model.unanswered(dev), dev.name());
            }
            model.removed(dev);
        }
        if (!m.iopf.partials(dev).isEmpty() || m.iopf.pendingGroups(dev) != 0 || m.iopf.faultParamUsers(dev) != 0) {
            violation("%s survives remove_device: %d partial(s), %d pending group(s), users %d", dev.name(),
                    m.iopf.partials(dev).size(), m.iopf.pendingGroups(dev), m.iopf.faultParamUsers(dev));
        }
    }

    /** Sees no response and no expected state change during an operation that must answer nothing. */
    void expectSilent(long responsesBefore, String what) {
        if (stats.responses != responsesBefore) {
            violation("%s sent %d response(s)", what, stats.responses - responsesBefore);
        }
    }

    // ---- quiet points -------------------------------------------------------------------------------

    /** Between operations (no report in flight): counters of every device agree with the model. */
    void checkQuiet() {
        if (pendingEvt != null) {
            violation("response event for %s not followed by page_response", Ledger.describe(pendingEvt));
            pendingEvt = null;
        }
        for (Device dev : m.devices) {
            boolean on = model.onQueue(dev);
            int users = on ? 1 + model.live(dev) : 0;
            int pending = on ? model.unanswered(dev) : 0;
            if (m.iopf.faultParamUsers(dev) != users) {
                violation("%s fault_param users %d, expected %d (1 + %d live group(s))", dev.name(),
                        m.iopf.faultParamUsers(dev), users, model.live(dev));
            }
            if (m.iopf.pendingGroups(dev) != pending) {
                violation("%s pending groups %d, expected %d", dev.name(), m.iopf.pendingGroups(dev), pending);
            }
            if (!Ledger.sameFaults(m.iopf.partials(dev), model.parked(dev))) {
                violation("%s partials %s, expected %s", dev.name(), Ledger.describe(m.iopf.partials(dev)),
                        Ledger.describe(model.parked(dev)));
            }
        }
    }

    /** After the loop drained: every LPIG answered exactly once, every work item and flush finished. */
    void finish() {
        step("after drain");
        checkQuiet();
        for (Map.Entry<IommuFault, List<String>> e : ledger.lpigs().entrySet()) {
            if (e.getValue().size() != 1) {
                violation("LPIG %s answered %d time(s): %s", Ledger.describe(e.getKey()), e.getValue().size(),
                        e.getValue());
            }
        }
        model.finish();
    }

    /** Whether {@code lpig} has been answered at least once (candidates for a duplicate response). */
    boolean answered(IommuFault lpig) {
        return !ledger.answers(lpig).isEmpty();
    }
}
