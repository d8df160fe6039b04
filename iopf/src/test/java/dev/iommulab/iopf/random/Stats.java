package dev.iommulab.iopf.random;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** What a run (or many) exercised, to show the seeds really mix every path. */
final class Stats {

    final Map<InterleavingChecker.Outcome, Integer> outcomes = new EnumMap<>(InterleavingChecker.Outcome.class);
    /** Groups (dispatched or aborted) that took at least one parked partial. */
    int groupsWithPartials;
    int refusedGroups;
    int responses;
    int removals;
    int pendingAtRemove;
    int readds;
    int discards;
    int flushes;
    int flushesThatWaited;
    int duplicateResponses;

    void outcome(InterleavingChecker.Outcome outcome, List<?> group) {
        outcomes.merge(outcome, 1, Integer::sum);
        if (group != null && group.size() > 1) {
            groupsWithPartials++;
        }
    }

    void add(Stats o) {
        o.outcomes.forEach((k, v) -> outcomes.merge(k, v, Integer::sum));
        groupsWithPartials += o.groupsWithPartials;
        refusedGroups += o.refusedGroups;
        responses += o.responses;
        removals += o.removals;
        pendingAtRemove += o.pendingAtRemove;
        readds += o.readds;
        discards += o.discards;
        flushes += o.flushes;
        flushesThatWaited += o.flushesThatWaited;
        duplicateResponses += o.duplicateResponses;
    }

    int outcome(InterleavingChecker.Outcome outcome) {
        return outcomes.getOrDefault(outcome, 0);
    }

    @Override
    public String toString() {
        return "outcomes " + outcomes + ", groups with partials " + groupsWithPartials + ", refused " + refusedGroups
                + ", responses " + responses + ", removals " + removals + " (pending groups " + pendingAtRemove
                + "), re-adds " + readds + ", discards " + discards + ", flushes " + flushes + " (waited "
                + flushesThatWaited + "), duplicate responses " + duplicateResponses;
    }
}
