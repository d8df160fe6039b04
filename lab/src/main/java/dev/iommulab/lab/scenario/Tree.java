package dev.iommulab.lab.scenario;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** The parsed YAML document: mappings, lists and scalars, each with where it came from. */
final class Tree {

    private Tree() {
    }

    /** Where a node or key came from: a place in the file, or a {@code --set KEY=VALUE} override. */
    record Pos(SourceLocation location, String override) {
        Pos {
            if ((location == null) == (override == null)) {
                throw new IllegalArgumentException("exactly one of location and override");
            }
        }

        static Pos at(SourceLocation location) {
            return new Pos(location, null);
        }

        static Pos override(String keyValue) {
            return new Pos(null, keyValue);
        }
    }

    /** A YAML node. */
    sealed interface Node permits MapNode, ListNode, ScalarNode {
        Pos pos();

        /** "a mapping", "a list", "a scalar" or "nothing" (for messages). */
        String what();
    }

    /** A mapping key with its position and value. */
    record Entry(String key, Pos keyPos, Node value) {
    }

    /** What mappings and lists share: where they were written. */
    abstract static class Container {
        private final Pos pos;

        Container(Pos pos) {
            this.pos = Objects.requireNonNull(pos);
        }

        public final Pos pos() {
            return pos;
        }
    }

    /** A mapping; keeps file order. Mutable only while overrides are applied. */
    static final class MapNode extends Container implements Node {
        private final Map<String, Entry> entries = new LinkedHashMap<>();

        MapNode(Pos pos) {
            super(pos);
        }

        @Override
        public String what() {
            return "a mapping";
        }

        Entry get(String key) {
            return entries.get(key);
        }

        /** Adds or replaces the entry; a replaced entry keeps its place. */
        void put(Entry entry) {
            entries.put(entry.key(), entry);
        }

        Collection<Entry> entries() {
            return entries.values();
        }
    }

    /** A list. Mutable only while overrides are applied. */
    static final class ListNode extends Container implements Node {
        private final List<Node> items = new ArrayList<>();

        ListNode(Pos pos) {
            super(pos);
        }

        @Override
        public String what() {
            return "a list";
        }

        List<Node> items() {
            return items;
        }
    }

    /** A scalar, as written; {@code text} is {@code null} for a YAML null ({@code ~}, {@code null} or empty). */
    record ScalarNode(String text, Pos pos) implements Node {
        boolean isNull() {
            return text == null;
        }

        @Override
        public String what() {
            return text == null ? "nothing" : "a scalar";
        }
    }
}
