package dev.iommulab.lab.scenario;

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
}
