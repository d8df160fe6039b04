package dev.iommulab.lab.scenario;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Collects the problems of one load. */
final class Problems {

    private static final Comparator<ScenarioProblem> ORDER = Comparator
            .comparing((ScenarioProblem p) -> !p.fromOverride())
            .thenComparingInt(p -> p.fromOverride() ? 0 : p.location().line())
            .thenComparingInt(p -> p.fromOverride() ? 0 : p.location().column());

    private final List<ScenarioProblem> problems = new ArrayList<>();

    /** Records a problem at {@code pos}; {@code key} is the dotted path of the offending key. */
    void add(Tree.Pos pos, String key, String message) {
        if (pos.override() != null) {
            problems.add(ScenarioProblem.override(pos.override(), message));
        } else {
            problems.add(new ScenarioProblem(pos.location(), key, message));
        }
    }

    boolean isEmpty() {
        return problems.isEmpty();
    }

    /** Override problems first (in the order found), then file problems by line and column. */
    List<ScenarioProblem> sorted() {
        List<ScenarioProblem> copy = new ArrayList<>(problems);
        copy.sort(ORDER);
        return copy;
    }
}
