package dev.iommulab.lab.run;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.vfio.IommufdFault;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * The bookkeeping of {@link IommufdRandomTest}: every page request group io-pgfault hands to a fault-capable HWPT of
 * the iommufd context (iommu_report_device_fault() → iommufd_fault_iopf_handler()), from dispatch to its answer by
 * iopf_group_response() and on to the PRG Response Message that reaches the function. It keeps the fault files'
 * state as user space must see it — the deliver list in arrival order and the response table by cookie
 * (drivers/iommu/iommufd/eventq.c, linux-fault-stack.md §5.2-§5.5) — so reads and writes can be predicted byte for
 * byte, and it records a violation when a group is answered twice, by a forbidden origin or code, or when a PRG
 * response reaches the function that no software answer explains (linux-fault-stack.md §8b items 1, 4 and 7).
 */
final class IommufdRandomLedger implements FaultEvents.Listener {

    /** One group handed to the iommufd context's iopf handler. */
    static final class Group {
        final Device dev;
        final List<IommuFault> faults;
        final File file;
        final AttachHandle handle;
        final int devId;
        final long dispatchedAt;
        int cookie;
        int answers;
        int wire;
        PageResponseCode code;
        ResponseOrigin origin;
        long answeredAt = -1;

        Group(Device dev, List<IommuFault> faults, File file, AttachHandle handle, int devId, long at) {
            this.dev = dev;
            this.faults = faults;
            this.file = file;
            this.handle = handle;
            this.devId = devId;
            this.dispatchedAt = at;
        }

        IommuFault last() {
            return faults.get(faults.size() - 1);
        }

        boolean answered() {
            return answers > 0;
        }

        String key() {
            return key(dev.name(), last().grpid());
        }

        static String key(String device, int grpid) {
            return device + "/" + grpid;
        }

        @Override
        public String toString() {
            IommuFault l = last();
            return String.format("%s PASID %s grpid %d (%d request(s), dispatched at %dns%s)", dev.name(),
                    l.pasidValid() ? Integer.toString(l.pasid()) : "-", l.grpid(), faults.size(), dispatchedAt,
                    cookie > 0 ? ", cookie " + cookie : "");
        }
    }

    /** What user space must see of one fault object's file: groups not read yet, and read ones by cookie. */
    static final class File {
        final int faultId;
        final IommufdFault file;
        final Deque<Group> deliver = new ArrayDeque<>();
        final TreeMap<Integer, Group> response = new TreeMap<>();

        File(int faultId, IommufdFault file) {
            this.faultId = faultId;
            this.file = file;
        }

        /** The lowest cookie ≥ 1 no unanswered group of this file holds. */
        int lowestFreeCookie() {
            int c = 1;
            while (response.containsKey(c)) {
                c++;
            }
            return c;
        }

        /** The groups a read of {@code count} bytes returns: whole groups, oldest first, while they fit. */
        List<Group> wouldRead(int count) {
            List<Group> out = new ArrayList<>();
            int room = count;
            for (Group g : deliver) {
                if (g.faults.size() * IommufdFault.RECORD_SIZE > room) {
                    break;
                }
                room -= g.faults.size() * IommufdFault.RECORD_SIZE;
                out.add(g);
            }
            return out;
        }
    }

    /** A software answer on its way to the function. */
    private record Token(Group group, ResponseOrigin origin, PageResponseCode code) {
    }

    private final IommuCore core;
    private final EventLoop loop;
    private final Map<IommuDomain, File> reportsTo = new IdentityHashMap<>();
    private final Map<AttachHandle, Integer> devIds = new IdentityHashMap<>();
    private final Map<IommuFault, Group> byLast = new IdentityHashMap<>();
    private final Map<String, Deque<Token>> onTheWay = new HashMap<>();
    private final Map<String, List<Group>> byKey = new HashMap<>();
    final List<Group> groups = new ArrayList<>();
    final List<String> violations = new ArrayList<>();
    private final BiConsumer<String, Integer> tally;
    /** Answers (any origin) given so far: lets a step check that it answered nothing. */
    int answersSeen;

    IommufdRandomLedger(IommuCore core, EventLoop loop, BiConsumer<String, Integer> tally) {
        this.core = core;
        this.loop = loop;
        this.tally = tally;
    }

    /** The domain of a fault-capable HWPT reports to {@code file}. */
    void reportsTo(IommuDomain domain, File file) {
        reportsTo.put(domain, file);
    }

    /** An attachment published {@code handle} for iommufd device {@code devId}. */
    void attached(AttachHandle handle, int devId) {
        devIds.put(handle, devId);
    }

    /** Listens to the PRG responses reaching {@code device}'s function. */
    void wire(String device, PrgResponse r) {
        Deque<Token> waiting = onTheWay.get(Group.key(device, r.prgi()));
        Token t = waiting == null ? null : waiting.poll();
        if (t == null) {
            tally.accept("wire response from hardware", 1);
            List<Group> same = byKey.get(Group.key(device, r.prgi()));
            if (same != null) {
                violations.add(String.format("at %dns a PRG response PRGI %d (wire %#x) reached %s that no software "
                        + "answer explains, while iommufd group(s) %s have that PRGI", loop.now(), r.prgi(),
                        r.wireCode(), device, same));
            }
            return;
        }
        if (t.group() == null) {
            return;
        }
        Group g = t.group();
        g.wire++;
        PrgResponseCode expected = t.code() == PageResponseCode.SUCCESS ? PrgResponseCode.SUCCESS
                : PrgResponseCode.INVALID_REQUEST;
        if (g.wire > 1) {
            violations.add("at " + loop.now() + "ns a second PRG response reached the function for " + g);
        }
        if (r.code() != expected) {
            violations.add(String.format("%s answered %s by %s arrived as wire code %#x", g, t.code(),
                    t.origin().label(), r.wireCode()));
        }
        if (r.pasidPresent() && (!g.last().pasidValid() || r.pasid() != g.last().pasid())) {
            violations.add(g + " answered on the wire with PASID " + r.pasid());
        }
    }

    @Override
    public void groupDispatched(Device dev, List<IommuFault> faults) {
        IommuFault last = faults.get(faults.size() - 1);
        AttachHandle handle;
        try {
            handle = core.attachHandleGet(dev.group(), last.pasidValid() ? last.pasid() : IommuCore.IOMMU_NO_PASID,
                    null);
        } catch (KernelException e) {
            violations.add("a group of " + dev.name() + " grpid " + last.grpid() + " was dispatched with no handle: "
                    + e);
            return;
        }
        File file = reportsTo.get(handle.domain());
        if (file == null) {
            violations.add("a group of " + dev.name() + " grpid " + last.grpid()
                    + " was dispatched to a domain that reports to no fault object of the context");
            return;
        }
        Integer devId = devIds.get(handle);
        Group g = new Group(dev, List.copyOf(faults), file, handle, devId == null ? -1 : devId, loop.now());
        if (devId == null) {
            violations.add(g + " was dispatched through an attach handle the context never published");
        }
        groups.add(g);
        byLast.put(last, g);
        byKey.computeIfAbsent(g.key(), k -> new ArrayList<>()).add(g);
        file.deliver.addLast(g);
        tally.accept("groups to iommufd", 1);
        if (faults.size() > 1) {
            tally.accept("multi-request groups to iommufd", 1);
        }
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        answersSeen++;
        Group g = byLast.get(evt);
        onTheWay.computeIfAbsent(Group.key(dev.name(), response.grpid()), k -> new ArrayDeque<>())
                .add(new Token(g, origin, response.code()));
        if (g == null) {
            tally.accept("other answer " + origin.label() + " " + response.code(), 1);
            return;
        }
        g.answers++;
        tally.accept("answer " + origin.label() + " " + response.code(), 1);
        if (g.answers > 1) {
            violations.add(String.format("%s answered again at %dns by %s %s (first by %s %s at %dns)", g, loop.now(),
                    origin.label(), response.code(), g.origin.label(), g.code, g.answeredAt));
            return;
        }
        g.code = response.code();
        g.origin = origin;
        g.answeredAt = loop.now();
        boolean allowed = switch (origin) {
            case IOMMUFD -> response.code() == PageResponseCode.SUCCESS || response.code() == PageResponseCode.INVALID;
            case AUTO_RESPONSE, REMOVE_DEVICE -> response.code() == PageResponseCode.INVALID;
            default -> false;
        };
        if (!allowed) {
            violations.add(g + " answered " + response.code() + " by " + origin.label());
        }
        g.file.deliver.remove(g);
        if (g.cookie > 0 && g.file.response.get(g.cookie) == g) {
            g.file.response.remove(g.cookie);
        }
    }

    /**
     * User space read {@code g} with {@code cookie}: checks §8b invariant 4 on it — the cookie is held by no other
     * unanswered group of the file and is the lowest such — and moves the group to the response table.
     */
    void read(Group g, int cookie) {
        File f = g.file;
        if (f.response.containsKey(cookie)) {
            violations.add(String.format("read handed out cookie %d for %s while unanswered %s holds it", cookie, g,
                    f.response.get(cookie)));
        } else if (cookie != f.lowestFreeCookie()) {
            violations.add(String.format("read handed out cookie %d for %s; lowest free was %d (unanswered: %s)",
                    cookie, g, f.lowestFreeCookie(), f.response.keySet()));
        }
        f.deliver.remove(g);
        g.cookie = cookie;
        f.response.put(cookie, g);
    }

    /** The groups of {@code dev} not answered yet. */
    List<Group> unanswered(Device dev) {
        return groups.stream().filter(g -> g.dev == dev && !g.answered()).toList();
    }

    /** At the end of a run that is idle: every group answered exactly once, in software and on the wire. */
    void checkSettled() {
        for (Group g : groups) {
            if (g.answers == 0) {
                violations.add(g + " was never answered");
            } else if (g.wire == 0) {
                violations.add(g + " was answered by " + g.origin.label()
                        + " but no PRG response reached the function");
            }
        }
        onTheWay.forEach((key, tokens) -> tokens.stream().filter(t -> t.group() != null).forEach(t ->
                violations.add("the answer to " + t.group() + " is still on its way")));
    }
}
