package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.Pos;
import dev.iommulab.lab.scenario.Tree.ScalarNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Applies {@code --set KEY=VALUE} overrides to the tree before binding. {@code KEY} is a dotted path;
 * a numeric segment indexes a list; under {@code policies} the rest of the path is one policy key
 * (policy keys contain dots). The target must be a scalar, or absent with an existing parent mapping;
 * {@code policies} and {@code hardware.options} are created when missing. The new value keeps the
 * override as its origin, so later problems with it are reported against the override.
 */
final class Overrides {

    private final Problems problems;

    Overrides(Problems problems) {
        this.problems = problems;
    }

    void apply(MapNode root, List<String> overrides) {
        for (String override : overrides) {
            applyOne(root, override);
        }
    }

    private void applyOne(MapNode root, String override) {
        Pos pos = Pos.override(override);
        int eq = override.indexOf('=');
        if (eq <= 0) {
            problems.add(pos, "", "expected KEY=VALUE");
            return;
        }
        List<String> path = segments(override.substring(0, eq));
        if (path.stream().anyMatch(String::isEmpty)) {
            problems.add(pos, "", "invalid key path '" + override.substring(0, eq) + "'");
            return;
        }
        Node parent = root;
        for (int i = 0; i < path.size() - 1 && parent != null; i++) {
            parent = child(parent, path, i, pos);
        }
        if (parent != null) {
            setLeaf(parent, path, new ScalarNode(override.substring(eq + 1), pos));
        }
    }

    /** The segments of a dotted key; under {@code policies} the rest of the path is one policy key. */
    static List<String> segments(String key) {
        List<String> parts = new ArrayList<>(Arrays.asList(key.split("\\.", -1)));
        if (parts.size() > 2 && parts.get(0).equals("policies")) {
            return List.of("policies", String.join(".", parts.subList(1, parts.size())));
        }
        return parts;
    }

    /** The node at {@code path[i]} under {@code node}, created when allowed; {@code null} after a problem. */
    private Node child(Node node, List<String> path, int i, Pos pos) {
        String seg = path.get(i);
        if (node instanceof MapNode map) {
            Entry e = map.get(seg);
            boolean empty = e == null || e.value() instanceof ScalarNode s && s.isNull();
            if (!empty) {
                return e.value();
            }
            if (creatable(path, i)) {
                MapNode created = new MapNode(pos);
                map.put(new Entry(seg, e == null ? pos : e.keyPos(), created));
                return created;
            }
            return fail(pos, "'" + prefix(path, i) + "' " + (e == null ? "does not exist in the file" : "is empty"));
        }
        if (node instanceof ListNode list) {
            int index = index(seg, list);
            return index < 0 ? fail(pos, "'" + prefix(path, i) + "': no item " + seg + " (the list has "
                    + list.items().size() + ")") : list.items().get(index);
        }
        return fail(pos, "'" + prefix(path, i - 1) + "' is a scalar, not a mapping or list");
    }

    private void setLeaf(Node parent, List<String> path, ScalarNode value) {
        int last = path.size() - 1;
        String seg = path.get(last);
        if (parent instanceof MapNode map) {
            Entry e = map.get(seg);
            if (e != null && !(e.value() instanceof ScalarNode)) {
                fail(value.pos(), "'" + prefix(path, last) + "' is " + e.value().what() + ", not a scalar");
            } else {
                map.put(new Entry(seg, e == null ? value.pos() : e.keyPos(), value));
            }
        } else if (parent instanceof ListNode list) {
            int index = index(seg, list);
            if (index < 0) {
                fail(value.pos(), "'" + prefix(path, last) + "': no item " + seg + " (the list has "
                        + list.items().size() + ")");
            } else if (!(list.items().get(index) instanceof ScalarNode)) {
                fail(value.pos(), "'" + prefix(path, last) + "' is " + list.items().get(index).what()
                        + ", not a scalar");
            } else {
                list.items().set(index, value);
            }
        } else {
            fail(value.pos(), "'" + prefix(path, last - 1) + "' is a scalar, not a mapping or list");
        }
    }

    /** Only {@code policies} and {@code hardware.options} may be created by an override. */
    private static boolean creatable(List<String> path, int i) {
        return i == 0 && path.get(0).equals("policies")
                || i == 1 && path.get(0).equals("hardware") && path.get(1).equals("options");
    }

    private static int index(String seg, ListNode list) {
        if (!seg.matches("[0-9]{1,9}")) {
            return -1;
        }
        int index = Integer.parseInt(seg);
        return index < list.items().size() ? index : -1;
    }

    private static String prefix(List<String> path, int i) {
        return String.join(".", path.subList(0, i + 1));
    }

    private Node fail(Pos pos, String message) {
        problems.add(pos, "", message);
        return null;
    }
}
