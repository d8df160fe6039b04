package dev.iommulab.hw.iommu;

import dev.iommulab.hw.sim.EventHandle;
import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The ATS Invalidate Requests an IOMMU has sent and not yet seen retired, each under a PCIe invalidation tag
 * (ITAG 0-31; PCIe ATS "Invalidate Request", "Invalidate Completion"). A request is retired by the function's
 * Invalidate Completion naming its tag, or by the IOMMU's timeout; a completion that names a tag with nothing
 * outstanding for that requester is reported to the {@link Listener}. How far the tags reach is data
 * ({@link TagScope}): VT-d hands out the 32 tags per requester (VT-d spec §6.5.2.5), the RISC-V reference
 * model's {@code itag_tracker} shares 32 tags among all requesters.
 *
 * <p>Requests are numbered in the order they were sent, so that a wait (VT-d invalidation wait, RISC-V
 * {@code IOFENCE.C}) can ask whether every request sent before it has been retired.
 */
public final class AtsInvalidationTracker {

    /** Invalidation tags a requester (or the whole IOMMU) has. */
    public static final int TAGS = 32;

    /** Which requests share the 32 invalidation tags. */
    public enum TagScope {
        /** Each requester ID has its own 32 tags (VT-d). */
        PER_REQUESTER,
        /** One set of 32 tags for every requester together (RISC-V reference model). */
        SHARED
    }

    /** What the owner hears about retired requests; both run in the event that retires them. */
    public interface Listener {

        /** No completion came for {@code itag} of {@code rid} within the timeout; the tag is free again. */
        void timedOut(int rid, int itag);

        /** An Invalidate Completion from {@code rid} named {@code itag}, which has no request outstanding. */
        void notOutstanding(int rid, int itag);
    }

    /** One request the function has not answered yet. */
    private static final class Pending {
        final long seq;
        final int rid;
        final int itag;
        EventHandle timer;

        Pending(long seq, int rid, int itag) {
            this.seq = seq;
            this.rid = rid;
            this.itag = itag;
        }
    }

    private final EventLoop loop;
    private final PcieFabric fabric;
    private final TagScope scope;
    private final long timeoutNs;
    private final String timerLabel;
    private final Listener listener;
    private final List<Pending> outstanding = new ArrayList<>();
    private long issued;

    /**
     * @param timerLabel the event-loop label of each request's timeout
     */
    public AtsInvalidationTracker(EventLoop loop, PcieFabric fabric, TagScope scope, long timeoutNs, String timerLabel,
                                  Listener listener) {
        if (scope == null || timerLabel == null || timeoutNs <= 0) {
            throw new IllegalArgumentException("a tag scope, a timer label and a positive timeout are needed: " + scope
                    + ", " + timerLabel + ", " + timeoutNs);
        }
        this.loop = Objects.requireNonNull(loop, "loop");
        this.fabric = Objects.requireNonNull(fabric, "fabric");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.scope = scope;
        this.timeoutNs = timeoutNs;
        this.timerLabel = timerLabel;
    }

    /**
     * Sends an Invalidate Request of {@code [addr, addr + size)} to {@code rid} under the lowest free tag and
     * starts its timeout.
     *
     * @return the request as sent, or null when no tag is free (the caller must wait for a retirement)
     */
    public AtsInvalidateRequest send(int rid, boolean pasidPresent, int pasid, boolean global, long addr, long size) {
        int itag = freeTag(rid);
        if (itag < 0) {
            return null;
        }
        AtsInvalidateRequest request = new AtsInvalidateRequest(rid, pasidPresent, pasid, global, addr, size, itag);
        Pending p = new Pending(issued++, rid, itag);
        outstanding.add(p);
        fabric.sendAtsInvalidate(request);
        p.timer = loop.schedule(timeoutNs, timerLabel, () -> {
            if (outstanding.remove(p)) {
                listener.timedOut(p.rid, p.itag);
            }
        });
        return request;
    }

    private int freeTag(int rid) {
        for (int tag = 0; tag < TAGS; tag++) {
            if (find(scope == TagScope.SHARED ? -1 : rid, tag) == null) {
                return tag;
            }
        }
        return -1;
    }

    /** The outstanding request of {@code tag} to {@code rid} (any requester when {@code rid} is -1), or null. */
    private Pending find(int rid, int tag) {
        for (Pending p : outstanding) {
            if (p.itag == tag && (rid < 0 || p.rid == rid)) {
                return p;
            }
        }
        return null;
    }

    /**
     * An Invalidate Completion from {@code rid} for the tags set in {@code itagVector}: retires each outstanding
     * request it names, lowest tag first, and reports the tags with nothing outstanding.
     *
     * @return how many requests it retired
     */
    public int completion(int rid, int itagVector) {
        int retired = 0;
        for (int tag = 0; tag < TAGS; tag++) {
            if ((itagVector & 1 << tag) == 0) {
                continue;
            }
            Pending p = find(rid, tag);
            if (p == null) {
                listener.notOutstanding(rid, tag);
            } else {
                outstanding.remove(p);
                p.timer.cancel();
                retired++;
            }
        }
        return retired;
    }

    /** How many requests have been sent: a wait that starts now waits for those numbered below this. */
    public long issued() {
        return issued;
    }

    /** Whether every request numbered below {@code barrier} has been retired (answered or timed out). */
    public boolean retiredBefore(long barrier) {
        for (Pending p : outstanding) {
            if (p.seq < barrier) {
                return false;
            }
        }
        return true;
    }

    public int outstandingCount() {
        return outstanding.size();
    }
}
