package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.PageRequestMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The page request groups a function knows, for {@link PriCapability}: each group's requests sent and not
 * answered, and, in order, the units of requests still waiting for credits. Bookkeeping only: the
 * capability decides what is sent and answered.
 */
final class PriGroups {

    /** One group: requests sent so far (credits held), whether its LPIG went out, and who waits for it. */
    static final class Group {
        /** When the group became known, among all groups: the order of {@link #known()}. */
        final long order;
        int sent;
        boolean lastSent;
        PageRequestMessage lastMessage;
        PriCapability.GroupListener listener;

        Group(long order) {
            this.order = order;
        }
    }

    /**
     * Requests that go out together once their credits are free; {@code onSent} runs when they have. {@code credits}
     * counts the requests that take one (all but Stop Markers).
     */
    record Unit(List<PageRequestMessage> messages, Runnable onSent, int credits) {

        static Unit of(List<PageRequestMessage> messages, Runnable onSent) {
            int credits = 0;
            for (PageRequestMessage m : messages) {
                credits += m.isStopMarker() ? 0 : 1;
            }
            return new Unit(List.copyOf(messages), onSent, credits);
        }

        PageRequestMessage first() {
            return messages.get(0);
        }

        boolean isStopMarker() {
            return first().isStopMarker();
        }

        int pasidKey() {
            return first().pasidPresent() ? first().pasid() : -1;
        }
    }

    /** The known groups by PRGI (null where none is): a response names its group by PRGI, 512 at most. */
    private final Group[] groups = new Group[PageRequestMessage.PRGI_MASK + 1];
    private long groupsKnown;
    private final Deque<Unit> queue = new ArrayDeque<>();

    boolean inUse(int prgi) {
        return groups[prgi] != null;
    }

    Group group(int prgi) {
        return groups[prgi];
    }

    /** The known groups, in the order they became known. */
    private List<Group> known() {
        List<Group> known = new ArrayList<>();
        for (Group g : groups) {
            if (g != null) {
                known.add(g);
            }
        }
        known.sort(Comparator.comparingLong(g -> g.order));
        return known;
    }

    /** Queues {@code messages} (one group's, or a Stop Marker) behind everything queued before. */
    void enqueue(List<PageRequestMessage> messages, PriCapability.GroupListener listener, Runnable onSent) {
        Unit unit = Unit.of(messages, onSent);
        if (!unit.isStopMarker()) {
            int prgi = unit.first().prgi();
            if (groups[prgi] == null) {
                groups[prgi] = new Group(groupsKnown++);
            }
            Group group = groups[prgi];
            if (listener != null) {
                group.listener = listener;
            }
        }
        queue.add(unit);
    }

    /**
     * The next unit that may go with {@code freeCredits}: the oldest one if its credits are free; a Stop
     * Marker may also pass waiting units of other PASIDs (it only has to follow its own PASID's requests).
     */
    Unit nextSendable(int freeCredits) {
        Set<Integer> waitingPasids = null; // made when a unit has to wait: rarely
        for (Unit u : queue) {
            boolean mayPass = waitingPasids == null || u.credits() == 0 && !waitingPasids.contains(u.pasidKey());
            if (mayPass && u.credits() <= freeCredits) {
                return u;
            }
            if (waitingPasids == null) {
                waitingPasids = new HashSet<>();
            }
            waitingPasids.add(u.pasidKey());
        }
        return null;
    }

    /** {@code unit} leaves the queue: its requests are being sent. */
    void sent(Unit unit) {
        queue.remove(unit);
        for (PageRequestMessage m : unit.messages()) {
            if (!m.isStopMarker()) {
                Group group = groups[m.prgi()];
                group.sent++;
                group.lastSent |= m.last();
                group.lastMessage = m;
            }
        }
    }

    /** The group's response came: it is forgotten, with any of its requests not sent yet. */
    Group answered(int prgi) {
        queue.removeIf(u -> !u.isStopMarker() && u.first().prgi() == prgi);
        Group group = groups[prgi];
        groups[prgi] = null;
        return group;
    }

    /** Reset / FLR: everything is forgotten; returns the groups that were known. */
    List<Group> clear() {
        List<Group> all = known();
        Arrays.fill(groups, null);
        queue.clear();
        return all;
    }

    /**
     * Response Failure: queued requests are dropped, groups never sent are forgotten (sent ones keep their
     * credits); returns every group that had a listener, now detached.
     */
    List<PriCapability.GroupListener> releaseAfterFailure() {
        queue.removeIf(u -> !u.isStopMarker());
        List<PriCapability.GroupListener> released = new ArrayList<>();
        for (Group g : known()) {
            if (g.listener != null) {
                released.add(g.listener);
                g.listener = null;
            }
        }
        for (int prgi = 0; prgi < groups.length; prgi++) {
            if (groups[prgi] != null && groups[prgi].sent == 0) {
                groups[prgi] = null;
            }
        }
        return released;
    }

    /** Forgets the groups of {@code pasid} with nothing sent yet, and their queued requests. */
    List<Group> dropUnsent(int pasid) {
        List<Integer> prgis = new ArrayList<>();
        queue.removeIf(u -> {
            Group g = u.isStopMarker() ? null : groups[u.first().prgi()];
            boolean drop = g != null && g.sent == 0 && u.pasidKey() == pasid && u.first().pasidPresent();
            if (drop) {
                prgis.add(u.first().prgi());
            }
            return drop;
        });
        List<Group> dropped = new ArrayList<>();
        for (int prgi : prgis.stream().distinct().toList()) {
            dropped.add(groups[prgi]);
            groups[prgi] = null;
        }
        return dropped;
    }

    /** The last request sent of each group of {@code pasid} that is open: sent, no LPIG sent or queued. */
    List<PageRequestMessage> openGroups(int pasid) {
        List<PageRequestMessage> open = new ArrayList<>();
        for (Group g : known()) {
            PageRequestMessage m = g.lastMessage;
            if (g.sent > 0 && !g.lastSent && m.pasidPresent() && m.pasid() == pasid && !lpigQueued(m.prgi())) {
                open.add(m);
            }
        }
        return open;
    }

    private boolean lpigQueued(int prgi) {
        return queue.stream().flatMap(u -> u.messages().stream())
                .anyMatch(m -> !m.isStopMarker() && m.prgi() == prgi && m.last());
    }
}
