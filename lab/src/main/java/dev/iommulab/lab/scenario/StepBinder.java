package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.ScalarNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Binds the {@code steps} list. Each item is a mapping with one step kind key of {@link StepKinds}, whose value holds
 * the arguments, plus an optional {@code at}; {@code at} may also be given among the arguments.
 */
final class StepBinder {

    private static final List<String> ITEM_KEYS = itemKeys();

    private final Binding binding;
    /** The latest {@code at} so far and the sum of every {@code run.for} so far (their total is checked). */
    private long latestAt;
    private long runFor;
    private boolean pastMaxTime;

    StepBinder(Binding binding) {
        this.binding = binding;
    }

    List<Step> steps(ListNode list) {
        return SpecBinder.bindEach(list, "steps", binding.problems(), this::step);
    }

    private Step step(MapNode item, String path) {
        Fields outer = new Fields(item, path, binding, ITEM_KEYS);
        Long outerAt = outer.time("at", null);
        Entry kind = outer.onlyOneOf(StepKinds.keys(), "step");
        if (kind == null) {
            return null;
        }
        SourceLocation loc = kind.keyPos().location() != null ? kind.keyPos().location() : item.pos().location();
        Step step = args(kind, outer.path(kind.key()), outerAt, loc);
        if (step != null) {
            budget(step, outer, kind);
        }
        return outer.ok() ? step : null;
    }

    /**
     * Adds the step's {@code at} and {@code run.for} to the time the run can reach: the latest {@code at} plus every
     * {@code for} must stay within {@link Checks#MAX_TIME_NS}, so the clock never overflows. The value that first
     * takes the total past it is reported.
     */
    private void budget(Step step, Fields outer, Entry kind) {
        if (pastMaxTime) {
            return;
        }
        if (step.atNs() != null && step.atNs() > latestAt) {
            if (step.atNs() > Checks.MAX_TIME_NS - runFor) {
                boolean beside = outer.has("at");
                overBudget(beside ? outer.valuePos("at") : argument(kind, "at").pos(),
                        beside ? outer.path("at") : outer.path(kind.key()) + ".at", "at " + step.atNs());
                return;
            }
            latestAt = step.atNs();
        }
        if (step instanceof Run run && run.forNs() != null) {
            if (run.forNs() > Checks.MAX_TIME_NS - latestAt - runFor) {
                overBudget(argument(kind, "for").pos(), outer.path(kind.key()) + ".for", "for " + run.forNs());
                return;
            }
            runFor += run.forNs();
        }
    }

    private void overBudget(Tree.Pos pos, String key, String what) {
        pastMaxTime = true;
        binding.problems().add(pos, key, String.format("%s takes the run past 2^62 ns (%d ns, about 146 years): the"
                + " latest 'at' (%d ns so far) plus every run 'for' (%d ns so far) must stay within it", what,
                Checks.MAX_TIME_NS, latestAt, runFor));
    }

    /** The value of argument {@code key} of a step whose arguments were bound (so they are a mapping holding it). */
    private static Node argument(Entry kind, String key) {
        return ((MapNode) kind.value()).get(key).value();
    }

    private Step args(Entry kind, String path, Long outerAt, SourceLocation loc) {
        Node value = kind.value();
        if (kind.key().equals("run") && value instanceof ScalarNode s) {
            if ("idle".equals(s.text())) {
                return new Run(null, outerAt, loc);
            }
            binding.problems().add(s.pos(), path, "expected 'idle' or {for: TIME}, found "
                    + (s.isNull() ? "nothing" : "'" + s.text() + "'"));
            return null;
        }
        if (!(value instanceof MapNode args)) {
            binding.problems().add(value.pos(), path, "expected a mapping of arguments, found " + value.what());
            return null;
        }
        StepKinds.Kind<?> k = StepKinds.byKey(kind.key());
        List<String> keys = new ArrayList<>(k.argKeys());
        keys.add("at");
        keys.add("guest");
        String guest = guest(args, path);
        Fields f = new Fields(args, path, guest == null ? binding : binding.inGuest(guest), keys);
        Long innerAt = f.time("at", null);
        if (innerAt != null && outerAt != null) {
            f.error(f.valuePos("at"), "at", "'at' is given both beside and inside the step");
        }
        f.string("guest", null);
        Step step = k.binder().bind(f, innerAt != null ? innerAt : outerAt, loc);
        if (!f.ok() || step == null) {
            return null;
        }
        return guest == null ? step : new GuestStep(guest, step);
    }

    /** The {@code guest} of a step or expectation, checked against the declared guests; null without one. */
    static String guest(MapNode args, String path, Binding binding) {
        Entry e = args.get("guest");
        if (e == null || !(e.value() instanceof ScalarNode s) || s.isNull()) {
            return null;
        }
        if (!binding.guests().containsKey(s.text())) {
            binding.problems().add(s.pos(), path + ".guest", "unknown guest '" + s.text() + "'; declared: "
                    + (binding.guests().isEmpty() ? "none" : String.join(", ", binding.guests().keySet())));
        }
        return s.text();
    }

    private String guest(MapNode args, String path) {
        return guest(args, path, binding);
    }

    private static List<String> itemKeys() {
        List<String> keys = new ArrayList<>(StepKinds.keys());
        keys.add("at");
        return List.copyOf(keys);
    }
}
