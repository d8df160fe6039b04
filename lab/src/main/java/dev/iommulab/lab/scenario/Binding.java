package dev.iommulab.lab.scenario;

import java.util.AbstractSet;
import java.util.Collections;
import java.util.Iterator;
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

    /**
     * What a step or expectation inside {@code guest} may name: the guest's devices, no process. An undeclared guest
     * (reported already) lets any device name pass, so one mistake is reported once.
     */
    Binding inGuest(String guest) {
        Set<String> devices = guests.get(guest);
        return new Binding(problems, devices != null ? devices : ANY, Set.of(), Map.of());
    }

    /** Every name. */
    private static final Set<String> ANY = new AbstractSet<>() {
        @Override
        public boolean contains(Object o) {
            return true;
        }

        @Override
        public Iterator<String> iterator() {
            return Collections.emptyIterator();
        }

        @Override
        public int size() {
            return 0;
        }
    };
}
