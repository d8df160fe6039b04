package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.PageRequestMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The page request groups a function knows, for {@link PriCapability}: each group's requests sent and not
 * answered, and, in order, the units of requests still waiting for credits. Bookkeeping only: the
 * capability decides what is sent and answered.
 */
final class PriGroups {

    /** One group: requests sent so far (credits held), whether its LPIG went out, and who waits for it. */
    static final class Group {
        int sent;
        boolean lastSent;
        PageRequestMessage lastMessage;
        PriCapability.GroupListener listener;
    }

    /** Requests that go out together once their credits are free; {@code onSent} runs when they have. */
    record Unit(List<PageRequestMessage> messages, Runnable onSent) {

        PageRequestMessage first() {
            return messages.get(0);
        }

        boolean isStopMarker() {
            return first().isStopMarker();
        }

        int credits() {
            return (int) messages.stream().filter(m -> !m.isStopMarker()).count();
        }

        int pasidKey() {
            return first().pasidPresent() ? first().pasid() : -1;
        }
    }

    private final Map<Integer, Group> groups = new LinkedHashMap<>();
    private final Deque<Unit> queue = new ArrayDeque<>();

    boolean inUse(int prgi) {
        return groups.containsKey(prgi);
    }

    Group group(int prgi) {
        return groups.get(prgi);
    }

    /** Queues {@code messages} (one group's, or a Stop Marker) behind everything queued before. */
    void enqueue(List<PageRequestMessage> messages, PriCapability.GroupListener listener, Runnable onSent) {
        Unit unit = new Unit(List.copyOf(messages), onSent);
        if (!unit.isStopMarker()) {
            Group group = groups.computeIfAbsent(unit.first().prgi(), k -> new Group());
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
        Set<Integer> waitingPasids = new HashSet<>();
        for (Unit u : queue) {
            boolean mayPass = waitingPasids.isEmpty() || u.credits() == 0 && !waitingPasids.contains(u.pasidKey());
            if (mayPass && u.credits() <= freeCredits) {
                return u;
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
                Group group = groups.get(m.prgi());
                group.sent++;
                group.lastSent |= m.last();
                group.lastMessage = m;
            }
        }
    }

    /** The group's response came: it is forgotten, with any of its requests not sent yet. */
    Group answered(int prgi) {
        queue.removeIf(u -> !u.isStopMarker() && u.first().prgi() == prgi);
        return groups.remove(prgi);
    }

    /** Reset / FLR: everything is forgotten; returns the groups that were known. */
    List<Group> clear() {
        List<Group> all = new ArrayList<>(groups.values());
        groups.clear();
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
        for (Group g : groups.values()) {
            if (g.listener != null) {
                released.add(g.listener);
                g.listener = null;
            }
        }
        groups.values().removeIf(g -> g.sent == 0);
        return released;
    }

    /** Forgets the groups of {@code pasid} with nothing sent yet, and their queued requests. */
    List<Group> dropUnsent(int pasid) {
        List<Integer> prgis = new ArrayList<>();
        queue.removeIf(u -> {
            Group g = u.isStopMarker() ? null : groups.get(u.first().prgi());
            boolean drop = g != null && g.sent == 0 && u.pasidKey() == pasid && u.first().pasidPresent();
            if (drop) {
                prgis.add(u.first().prgi());
            }
            return drop;
        });
        return prgis.stream().distinct().map(groups::remove).toList();
    }

    /** The last request sent of each group of {@code pasid} that is open: sent, no LPIG sent or queued. */
    List<PageRequestMessage> openGroups(int pasid) {
        List<PageRequestMessage> open = new ArrayList<>();
        groups.forEach((prgi, g) -> {
            PageRequestMessage m = g.lastMessage;
            if (g.sent > 0 && !g.lastSent && m.pasidPresent() && m.pasid() == pasid && !lpigQueued(prgi)) {
                open.add(m);
            }
        });
        return open;
    }

    private boolean lpigQueued(int prgi) {
        return queue.stream().flatMap(u -> u.messages().stream())
                .anyMatch(m -> !m.isStopMarker() && m.prgi() == prgi && m.last());
    }
}
