package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A scenario file (with its overrides) is invalid. Carries every problem found, in file order with
 * override problems first; the message lists them one per line.
 */
public final class ScenarioException extends Exception {

    private final List<ScenarioProblem> problems;

    /**
     * @param problems the problems found; must not be empty
     */
    public ScenarioException(List<ScenarioProblem> problems) {
        super(format(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a ScenarioException needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    /** The problems, in report order. */
    public List<ScenarioProblem> problems() {
        return problems;
    }

    private static String format(List<ScenarioProblem> problems) {
        return problems.stream().map(ScenarioProblem::toString).collect(Collectors.joining("\n"));
    }
}
