package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.Pos;
import dev.iommulab.lab.scenario.Tree.ScalarNode;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Typed, located access to the keys of one mapping. Reports unknown keys on creation; each accessor
 * reports its own problem and returns {@code null} on error, so a binder reads every key and then
 * builds its record only when {@link #ok()}.
 */
final class Fields {

    private final MapNode map;
    private final String path;
    private final Binding binding;
    private int errors;

    Fields(MapNode map, String path, Binding binding, List<String> allowed) {
        this.map = map;
        this.path = path;
        this.binding = binding;
        for (Entry e : map.entries()) {
            if (!allowed.contains(e.key())) {
                error(e.keyPos(), e.key(), "unknown key '" + e.key() + "'; allowed: " + String.join(", ", allowed));
            }
        }
    }

    /** Whether no accessor of this mapping (nor the unknown-key check) reported a problem. */
    boolean ok() {
        return errors == 0;
    }

    Pos pos() {
        return map.pos();
    }

    String path(String key) {
        if (key.isEmpty() || path.isEmpty()) {
            return path + key;
        }
        return path + "." + key;
    }

    boolean has(String key) {
        return map.get(key) != null;
    }

    /** Whether the key is present with a YAML null value. */
    boolean isNull(String key) {
        Entry e = map.get(key);
        return e != null && e.value() instanceof ScalarNode s && s.isNull();
    }

    /** Position of the key's value; the key must be present. */
    Pos valuePos(String key) {
        return map.get(key).value().pos();
    }

    void error(Pos pos, String key, String message) {
        errors++;
        binding.problems().add(pos, path(key), message);
    }

    String text(String key) {
        return required(key, v -> Checks.name(v, key));
    }

    /** Any text, including empty. */
    String string(String key, String dflt) {
        return optional(key, dflt, v -> v);
    }

    Long number(String key) {
        return required(key, Numbers::parseSize);
    }

    Long number(String key, Long dflt) {
        return optional(key, dflt, Numbers::parseSize);
    }

    Long positive(String key) {
        return required(key, v -> Checks.positive(Numbers.parseSize(v), key));
    }

    Long pageAligned(String key, boolean positive) {
        return required(key, v -> {
            long n = Numbers.parseSize(v);
            return Checks.pageAligned(positive ? Checks.positive(n, key) : n, key);
        });
    }

    /** A time in ns, at most {@link Checks#MAX_TIME_NS}. */
    Long time(String key) {
        return required(key, v -> Checks.time(Numbers.parseTime(v), key));
    }

    /** A time in ns, at most {@link Checks#MAX_TIME_NS}. */
    Long time(String key, Long dflt) {
        return optional(key, dflt, v -> Checks.time(Numbers.parseTime(v), key));
    }

    Integer integer(String key, int min, int max) {
        return required(key, v -> toInt(v, min, max, key));
    }

    Integer integer(String key, int min, int max, Integer dflt) {
        return optional(key, dflt, v -> toInt(v, min, max, key));
    }

    Boolean bool(String key) {
        return required(key, Fields::toBool);
    }

    Boolean bool(String key, Boolean dflt) {
        return optional(key, dflt, Fields::toBool);
    }

    String choice(String key, List<String> allowed) {
        return required(key, v -> Checks.oneOf(v, allowed, key));
    }

    String choice(String key, List<String> allowed, String dflt) {
        return optional(key, dflt, v -> Checks.oneOf(v, allowed, key));
    }

    String prot(String key) {
        return required(key, Checks::prot);
    }

    String prot(String key, String dflt) {
        return optional(key, dflt, Checks::prot);
    }

    String device(String key) {
        return required(key, v -> declared(v, binding.devices(), "device"));
    }

    String process(String key) {
        return required(key, v -> declared(v, binding.processes(), "process"));
    }

    String process(String key, String dflt) {
        return optional(key, dflt, v -> declared(v, binding.processes(), "process"));
    }

    /** The mapping under {@code key}, or {@code null} when absent, null, or (reported) not a mapping. */
    MapNode map(String key) {
        return container(key, MapNode.class, "a mapping");
    }

    /** The list under {@code key}, or {@code null} when absent, null, or (reported) not a list. */
    ListNode list(String key) {
        return container(key, ListNode.class, "a list");
    }

    /**
     * The single entry whose key is one of {@code kinds} (a step or expectation kind), or {@code null}
     * after reporting that there is none or more than one.
     */
    Entry onlyOneOf(Collection<String> kinds, String what) {
        List<Entry> found = map.entries().stream().filter(e -> kinds.contains(e.key())).toList();
        if (found.isEmpty()) {
            if (ok()) { // else an unknown key was already reported: most likely a misspelt kind
                error(map.pos(), "", "a " + what + " needs one of: " + String.join(", ", kinds));
            }
            return null;
        }
        if (found.size() > 1) {
            Entry second = found.get(1);
            error(second.keyPos(), second.key(), "one " + what + " per list item; found '" + found.get(0).key()
                    + "' and '" + second.key() + "'");
            return null;
        }
        return found.get(0);
    }

    /** Reports a missing required key at this mapping. */
    void missing(String key) {
        error(map.pos(), key, "missing required key '" + key + "'");
    }

    /** The node of {@code type} under {@code key}, or {@code null} when absent, null, or (reported) another node. */
    private <N extends Node> N container(String key, Class<N> type, String expected) {
        Node node = has(key) && !isNull(key) ? map.get(key).value() : null;
        if (node == null || type.isInstance(node)) {
            return type.cast(node);
        }
        error(node.pos(), key, "expected " + expected + ", found " + node.what());
        return null;
    }

    private <T> T required(String key, Function<String, T> parse) {
        if (!has(key)) {
            missing(key);
            return null;
        }
        return parse(key, parse);
    }

    private <T> T optional(String key, T dflt, Function<String, T> parse) {
        return has(key) ? parse(key, parse) : dflt;
    }

    private <T> T parse(String key, Function<String, T> parse) {
        Node node = map.get(key).value();
        if (!(node instanceof ScalarNode scalar) || scalar.isNull()) {
            error(node.pos(), key, "expected a value, found " + node.what());
            return null;
        }
        try {
            return parse.apply(scalar.text());
        } catch (IllegalArgumentException e) {
            error(node.pos(), key, e.getMessage());
            return null;
        }
    }

    private static int toInt(String text, int min, int max, String key) {
        long value = Numbers.parseSize(text);
        if (value > max) {
            throw new IllegalArgumentException(key + " must be in " + min + ".." + max + ", got " + value);
        }
        return Checks.range((int) value, min, max, key);
    }

    private static Boolean toBool(String text) {
        switch (text) {
            case "true", "True", "TRUE":
                return Boolean.TRUE;
            case "false", "False", "FALSE":
                return Boolean.FALSE;
            default:
                throw new IllegalArgumentException("expected true or false, found '" + text + "'");
        }
    }

    private static String declared(String name, Set<String> declared, String what) {
        if (!declared.contains(name)) {
            throw new IllegalArgumentException("undefined " + what + " '" + name + "'; declared: "
                    + (declared.isEmpty() ? "none" : String.join(", ", declared)));
        }
        return name;
    }
}
