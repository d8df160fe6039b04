package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Loads and validates a scenario file (format: {@code SCENARIO-FORMAT.md}).
 *
 * <p>The file is read with Jackson's YAML parser keeping the line and column of every key and value.
 * {@code --set} overrides are applied to that tree, then every section is bound and checked: unknown
 * keys, missing required keys, wrong types, bad numbers, unknown enum values, duplicate names and
 * references to undeclared devices or processes. All problems are collected and thrown together; a
 * scenario is returned only when there are none.
 *
 * <p>Stateless and thread-safe; reads nothing but the given file (no clock, no randomness).
 */
public final class ScenarioLoader {

    /** Creates a loader. */
    public ScenarioLoader() {
    }

    /**
     * Loads a scenario file without overrides.
     *
     * @throws ScenarioException with every problem found
     */
    public Scenario load(Path file) throws ScenarioException {
        return load(file, List.of());
    }

    /**
     * Loads a scenario file, applying {@code KEY=VALUE} overrides (as given to {@code --set}, in order)
     * to scalars by dotted path before validation.
     *
     * @throws ScenarioException with every problem found, override problems first
     */
    public Scenario load(Path file, List<String> overrides) throws ScenarioException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(overrides, "overrides");
        Problems problems = new Problems();
        Node root = new TreeReader(file, problems).read();
        Scenario scenario = null;
        if (root != null) {
            if (root instanceof MapNode map) {
                new Overrides(problems).apply(map, overrides);
            }
            scenario = new ScenarioBinder(file, problems).bind(root);
        }
        if (scenario == null && problems.isEmpty()) {
            problems.add(Tree.Pos.at(SourceLocation.unknown(file)), "", "no scenario could be read");
        }
        if (scenario == null || !problems.isEmpty()) {
            throw new ScenarioException(problems.sorted());
        }
        return scenario;
    }

    /**
     * A problem with {@code key} (a dotted path as {@code --set} writes it, e.g. {@code policies.dma.flush.timeout} or
     * {@code hardware.options.prq-entries}) found after loading, e.g. by the machine builder: located at the key's
     * value in {@code file} (as {@code overrides} left it), or at the override that gave the value, as a loading
     * problem would be; at the file alone when the key is not there.
     */
    public ScenarioProblem problemAt(Path file, List<String> overrides, String key, String message) {
        Problems ignored = new Problems();
        Node node = new TreeReader(file, ignored).read();
        if (node instanceof MapNode map) {
            new Overrides(ignored).apply(map, overrides);
        }
        for (String segment : Overrides.segments(key)) {
            node = child(node, segment);
        }
        if (node == null) {
            return new ScenarioProblem(SourceLocation.unknown(file), key, message);
        }
        return node.pos().override() != null ? ScenarioProblem.override(node.pos().override(), message)
                : new ScenarioProblem(node.pos().location(), key, message);
    }

    private static Node child(Node node, String segment) {
        if (node instanceof MapNode map) {
            Entry e = map.get(segment);
            return e == null ? null : e.value();
        }
        if (node instanceof ListNode list && segment.matches("[0-9]{1,9}")) {
            int index = Integer.parseInt(segment);
            return index < list.items().size() ? list.items().get(index) : null;
        }
        return null;
    }
}
