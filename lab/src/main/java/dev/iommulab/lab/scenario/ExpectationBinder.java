package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Binds the {@code expect} list: each item is a mapping with one expectation kind key. */
final class ExpectationBinder {

    private static final Map<String, List<String>> KINDS = Map.ofEntries(
            Map.entry("page-response", List.of("device", "code", "origin", "grpid", "pasid", "count")),
            Map.entry("dma", List.of("device", "status", "count")),
            Map.entry("fault-record", List.of("device", "reason", "recorded", "count")),
            Map.entry("device", List.of("name", "pri-enabled", "pri-response-failure")),
            Map.entry("log", List.of("contains")),
            Map.entry("parked", List.of("device", "pasid", "count", "after-step")),
            Map.entry("step-error", List.of("step", "errno", "count")),
            Map.entry("fault-read", List.of("process", "by", "pasid", "grpid", "last", "records", "groups")),
            Map.entry("fault-write", List.of("process", "by", "code", "cookie", "accepted", "count")),
            Map.entry("fault-queue", List.of("process", "unread", "unanswered", "after-step")),
            Map.entry("virtio-event", List.of("device", "reason", "delivered", "count")));
    private static final List<String> KIND_NAMES = List.of("page-response", "dma", "fault-record", "device", "log",
            "parked", "step-error", "fault-read", "fault-write", "fault-queue", "virtio-event");
    /** The kinds that may be about a guest ({@code guest:}). */
    private static final List<String> GUEST_KINDS = List.of("page-response", "dma", "fault-record", "device", "log",
            "virtio-event");

    private final Binding binding;
    private final int stepCount;

    /** {@code stepCount}: how many steps the scenario has (what {@code parked.after-step} may name). */
    ExpectationBinder(Binding binding, int stepCount) {
        this.binding = binding;
        this.stepCount = stepCount;
    }

    List<Expectation> expectations(ListNode list) {
        return SpecBinder.bindEach(list, "expect", binding.problems(), this::expectation);
    }

    private Expectation expectation(MapNode item, String path) {
        Fields outer = new Fields(item, path, binding, KIND_NAMES);
        Entry kind = outer.onlyOneOf(KIND_NAMES, "expectation");
        if (kind == null) {
            return null;
        }
        if (!(kind.value() instanceof MapNode args)) {
            outer.error(kind.value().pos(), kind.key(), "expected a mapping, found " + kind.value().what());
            return null;
        }
        SourceLocation loc = kind.keyPos().location() != null ? kind.keyPos().location() : item.pos().location();
        List<String> keys = new ArrayList<>(KINDS.get(kind.key()));
        String guest = null;
        if (GUEST_KINDS.contains(kind.key())) {
            keys.add("guest");
            guest = StepBinder.guest(args, outer.path(kind.key()), binding);
        }
        Fields f = new Fields(args, outer.path(kind.key()), guest == null ? binding : binding.inGuest(guest), keys);
        f.string("guest", null);
        Expectation e = bind(kind.key(), f, loc);
        if (!f.ok() || !outer.ok() || e == null) {
            return null;
        }
        return guest == null ? e : new GuestExpect(guest, e);
    }

    private Expectation bind(String kind, Fields f, SourceLocation loc) {
        switch (kind) {
            case "page-response":
                return pageResponse(f, loc);
            case "dma":
                return dma(f, loc);
            case "fault-record":
                return faultRecord(f, loc);
            case "device":
                return device(f, loc);
            case "parked":
                return parked(f, loc);
            case "virtio-event":
                return virtioEvent(f, loc);
            case "step-error", "fault-read", "fault-write", "fault-queue":
                return new VfioExpectationArgs(stepCount).bind(kind, f, loc);
            default:
                String contains = f.text("contains");
                return f.ok() ? new LogExpect(contains, loc) : null;
        }
    }

    private static Expectation virtioEvent(Fields f, SourceLocation loc) {
        String device = f.device("device");
        String reason = f.choice("reason", VirtioEventExpect.REASONS);
        Boolean delivered = f.bool("delivered", null);
        Integer count = count(f);
        return f.ok() ? new VirtioEventExpect(device, reason, delivered, count, loc) : null;
    }

    private static Expectation dma(Fields f, SourceLocation loc) {
        String device = f.device("device");
        String status = f.choice("status", DmaExpect.STATUSES);
        Integer count = count(f);
        return f.ok() ? new DmaExpect(device, status, count, loc) : null;
    }

    private static Expectation pageResponse(Fields f, SourceLocation loc) {
        String device = f.device("device");
        String code = f.choice("code", PageResponseExpect.CODES);
        String origin = f.choice("origin", PageResponseExpect.ORIGINS, null);
        Integer grpid = f.integer("grpid", 0, Checks.MAX_GRPID, null);
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        Integer count = count(f);
        return f.ok() ? new PageResponseExpect(device, code, origin, grpid, pasid, count, loc) : null;
    }

    private static Expectation faultRecord(Fields f, SourceLocation loc) {
        String device = f.device("device");
        String reason = f.text("reason");
        if (reason != null && !Checks.isReasonName(reason)) {
            f.error(f.valuePos("reason"), "reason", "invalid reason '" + reason
                    + "'; expected an upper-case reason name such as TRANSLATION_NOT_PRESENT");
        }
        Boolean recorded = f.bool("recorded", null);
        Integer count = count(f);
        return f.ok() ? new FaultRecordExpect(device, reason, recorded, count, loc) : null;
    }

    private static Expectation device(Fields f, SourceLocation loc) {
        String name = f.device("name");
        Boolean priEnabled = f.bool("pri-enabled", null);
        Boolean priResponseFailure = f.bool("pri-response-failure", null);
        if (!f.has("pri-enabled") && !f.has("pri-response-failure")) {
            f.error(f.pos(), "", "a device expectation needs pri-enabled or pri-response-failure");
        }
        return f.ok() ? new DeviceExpect(name, priEnabled, priResponseFailure, loc) : null;
    }

    private Expectation parked(Fields f, SourceLocation loc) {
        String device = f.device("device");
        Integer pasid = f.integer("pasid", 0, Checks.MAX_PASID, null);
        Integer count = f.integer("count", 0, Integer.MAX_VALUE);
        Integer afterStep = f.integer("after-step", 1, Math.max(1, stepCount), null);
        return f.ok() ? new ParkedExpect(device, pasid, count, afterStep, loc) : null;
    }

    private static Integer count(Fields f) {
        return f.integer("count", 0, Integer.MAX_VALUE, null);
    }
}
