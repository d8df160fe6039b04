package dev.iommulab.lab.scenario;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What binders share during one load: where problems go, the declared device and process names (in file order) for
 * reference checks, and each guest's device names.
 */
record Binding(Problems problems, Set<String> devices, Set<String> processes, Map<String, Set<String>> guests) {

    /** The binding of a whole file: nothing declared yet. */
    static Binding of(Problems problems) {
        return new Binding(problems, new LinkedHashSet<>(), new LinkedHashSet<>(), new LinkedHashMap<>());
    }

    /** What a step or expectation inside {@code guest} may name: the guest's devices, no process. */
    Binding inGuest(String guest) {
        return new Binding(problems, guests.getOrDefault(guest, Set.of()), Set.of(), Map.of());
    }
}
