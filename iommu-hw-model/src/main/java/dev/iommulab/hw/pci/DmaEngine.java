package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.function.Consumer;

/**
 * Runs one {@link DmaJob}: first its descriptor fetch (if any), then its data, page by page. Each page is
 * translated by a {@link PageTranslator} (untranslated without ATS; ATC hit or ATS + PRI with it) and then
 * transferred as MPS-sized memory requests, all issued at once:
 * <ul>
 *   <li>reads take a tag each and wait for their completions; any error ends the work item at the first
 *       failing address once every read of the page has come back (no tag is ever left behind, §6/48);</li>
 *   <li>writes are posted: the function never learns that one was discarded (§1.2, §6/47), so it goes on;
 *       the outcome reports {@link DmaStatus#DROPPED} at the first lost write;</li>
 *   <li>a failed descriptor fetch leaves the function non-functional until FLR (reference §4).</li>
 * </ul>
 * Abort (PASID stop) lets outstanding non-posted requests retire first; FLR ends the work item at once.
 */
final class DmaEngine {

    private static final long PAGE = Atc.PAGE;

    private final PcieEndpoint ep;
    private final EventLoop loop;
    private final DmaJob job;
    private final Consumer<DmaOutcome> done;
    private final ProfileBehaviour profile;
    private final PageTranslator translator;
    private final long startNs;
    private final int generation;
    /** The bytes read so far when the job keeps them; allocated at the first one. */
    private byte[] readData;
    private boolean descriptorPhase;
    private long segmentEnd;
    private long cursor;
    private long pageEnd;
    private int pendingChunks;
    private long failedAt = -1;
    private CompletionStatus failedWith;
    private long firstLostWrite = -1;
    private int nonPosted;
    private boolean finished;
    private Runnable onAbortDone;

    DmaEngine(PcieEndpoint ep, DmaJob job, Consumer<DmaOutcome> done) {
        this.ep = ep;
        this.loop = ep.loop();
        this.job = job;
        this.done = done;
        this.profile = ep.profile();
        this.translator = new PageTranslator(ep, this, job);
        this.startNs = loop.now();
        this.generation = ep.generation();
    }

    DmaJob job() {
        return job;
    }

    long cursor() {
        return cursor;
    }

    /** The end of the part of the work item being transferred (descriptor or data). */
    long segmentEnd() {
        return segmentEnd;
    }

    boolean readsDescriptor() {
        return descriptorPhase;
    }

    void start() {
        if (loop.trace().enabled()) { // the arguments are strings built for the message
            trace("dma", "%s starts DMA %s %#x+%d%s%s", ep.config().name(), job.access().name().toLowerCase(),
                    job.addr(), job.size(), job.pasid() >= 0 ? " PASID " + job.pasid() : "",
                    job.hasDescriptor() ? String.format(" (descriptor at %#x)", job.descriptorAddr()) : "");
        }
        if (!ep.functional()) {
            trace("dma", "%s is non-functional since a descriptor fetch failed: FLR needed", ep.config().name());
            finish(DmaStatus.DEVICE_ERROR, -1);
            return;
        }
        if (job.pasid() >= 0 && !ep.pasidEnabled()) {
            finish(DmaStatus.UR, job.addr());
            return;
        }
        if (job.hasDescriptor()) {
            descriptorPhase = true;
            cursor = job.descriptorAddr();
            segmentEnd = cursor + job.descriptorSize();
        } else {
            cursor = job.addr();
            segmentEnd = job.addr() + job.size();
        }
        nextPage();
    }

    /** Whether callbacks of this work item still matter (not finished, not aborted, no FLR since it began). */
    boolean live() {
        return !finished && onAbortDone == null && generation == ep.generation();
    }

    void nonPostedIssued() {
        nonPosted++;
    }

    /** A non-posted request came back; false when the work item no longer cares (aborted or reset). */
    boolean nonPostedReturned() {
        if (finished || generation != ep.generation()) {
            return false;
        }
        nonPosted--;
        if (onAbortDone != null) {
            if (nonPosted == 0) {
                finish(DmaStatus.ABORTED, -1);
            }
            return false;
        }
        return true;
    }

    private void nextPage() {
        if (cursor >= segmentEnd) {
            segmentDone();
            return;
        }
        translator.resolve(cursor & ~(PAGE - 1));
    }

    /** The page of the cursor translates to {@code pageBase} ({@code type} says how it is addressed). */
    void translated(AddressType type, long pageBase) {
        long page = cursor & ~(PAGE - 1);
        pageEnd = Math.min(page + PAGE, segmentEnd);
        int mps = ep.config().options().mps() == 0 ? profile.defaultMps() : ep.config().options().mps();
        Access access = descriptorPhase ? Access.READ : job.access();
        pendingChunks = 0;
        for (long at = cursor; at < pageEnd; at = Math.min((at & -mps) + mps, pageEnd)) {
            pendingChunks++;
        }
        for (long at = cursor; at < pageEnd; ) {
            long next = Math.min((at & -mps) + mps, pageEnd);
            issue(type, access, at, pageBase + (at - page), (int) (next - at));
            at = next;
        }
    }

    private void issue(AddressType type, Access access, long at, long addr, int length) {
        WriteData data = access == Access.WRITE ? job.payload().slice(at - job.addr(), length) : null;
        DmaRequest request = new DmaRequest(ep.rid(), type, translator.pasidTagged(), Math.max(job.pasid(), 0), addr,
                length, access, job.privileged(), data);
        if (access == Access.WRITE) {
            loop.schedule(ep.timing().pcieTlpNs(), "memory-request", () -> {
                DmaCompletion fate = ep.iommu().memoryRequest(request);
                performed(request, at, fate);
                loop.schedule(ep.timing().memoryAccessNs(), "memory-completion", () -> onWritten(at, length, fate));
            });
            return;
        }
        ReadTags.Tag tag = ep.tags().allocate(ReadTags.Kind.READ, translator.pasidTag(), at & ~(PAGE - 1),
                type == AddressType.TRANSLATED);
        if (tag == null) {
            ep.tags().whenFree(() -> {
                if (live()) {
                    issue(type, access, at, addr, length);
                }
            });
            return;
        }
        nonPostedIssued();
        loop.schedule(ep.timing().pcieTlpNs(), "memory-request", () -> {
            DmaCompletion completion = ep.iommu().memoryRequest(request);
            performed(request, at, completion);
            loop.schedule(ep.timing().memoryAccessNs() + ep.timing().pcieTlpNs(), "memory-completion",
                    () -> onRead(tag, at, length, completion));
        });
    }

    /** The IOMMU performed {@code request} (for work-item address {@code va}): the access listeners are told. */
    private void performed(DmaRequest request, long va, DmaCompletion completion) {
        if (completion.ok()) {
            int pasid = request.pasidPresent() ? request.pasid() : -1;
            boolean translated = request.addressType() == AddressType.TRANSLATED;
            ep.memoryAccessed(new MemoryAccess(request.rid(), pasid, va, completion.pa(), request.length(),
                    request.access(), translated));
        }
    }

    private void onRead(ReadTags.Tag tag, long at, int length, DmaCompletion completion) {
        ep.tags().retire(tag);
        if (!nonPostedReturned()) {
            return;
        }
        if (!completion.ok()) {
            trace("dma", "%s read %#x+%d: %s completion, tag %d retired", ep.config().name(), at,
                    length, completion.status(), tag.number);
            if (failedAt < 0 || at < failedAt) {
                failedAt = at;
                failedWith = completion.status();
            }
        } else if (!descriptorPhase && job.keepsReadData()) {
            if (readData == null) {
                readData = new byte[Math.toIntExact(job.size())];
            }
            System.arraycopy(completion.data(), 0, readData, Math.toIntExact(at - job.addr()), length);
        }
        chunkDone();
    }

    private void onWritten(long at, int length, DmaCompletion fate) {
        if (!live()) {
            return;
        }
        if (!fate.ok() && (firstLostWrite < 0 || at < firstLostWrite)) {
            firstLostWrite = at;
            trace("dma", "%s posted write %#x+%d discarded by the IOMMU: %s", ep.config().name(), at,
                    length, profile.lostWrite());
        }
        chunkDone();
    }

    private void chunkDone() {
        if (--pendingChunks > 0) {
            return;
        }
        if (failedAt >= 0) {
            fail(failedWith == CompletionStatus.CA ? DmaStatus.CA : DmaStatus.UR, failedAt);
            return;
        }
        trace("dma", "%s %s %#x..%#x done", ep.config().name(),
                descriptorPhase ? "fetched descriptor" : job.access() == Access.WRITE ? "wrote" : "read", cursor,
                pageEnd);
        translator.pageDone();
        cursor = pageEnd;
        nextPage();
    }

    private void segmentDone() {
        if (descriptorPhase) {
            descriptorPhase = false;
            cursor = job.addr();
            segmentEnd = job.addr() + job.size();
            nextPage();
            return;
        }
        finish(firstLostWrite >= 0 ? DmaStatus.DROPPED : DmaStatus.OK, firstLostWrite);
    }

    /** The work item cannot go on: {@code status} at {@code addr}. */
    void fail(DmaStatus status, long addr) {
        if (descriptorPhase) {
            ep.markNonFunctional();
            trace("dma", "%s descriptor fetch at %#x failed (%s): non-functional until FLR",
                    ep.config().name(), addr, status.label());
        } else {
            trace("dma", "%s %s", ep.config().name(), profile.failedWorkItem(status, addr));
        }
        finish(status, addr);
    }

    /** The device driver stops the work item; {@code stopped} runs once its non-posted requests retired. */
    void abort(Runnable stopped) {
        if (finished) {
            stopped.run();
            return;
        }
        onAbortDone = stopped;
        if (nonPosted == 0) {
            finish(DmaStatus.ABORTED, -1);
        }
    }

    /** Function Level Reset: the work item ends now; completions still on their way are discarded. */
    void resetAbort() {
        if (!finished) {
            finish(DmaStatus.ABORTED, -1);
        }
    }

    private void finish(DmaStatus status, long faultAddr) {
        finished = true;
        ep.unregister(this);
        if (loop.trace().enabled()) { // the arguments are strings built for the message
            trace("dma", "%s DMA %#x+%d ends: %s%s", ep.config().name(), job.addr(), job.size(),
                    status.label(), faultAddr >= 0 ? String.format(" at %#x", faultAddr) : "");
        }
        byte[] data = status == DmaStatus.OK && readData != null ? readData : new byte[0];
        done.accept(new DmaOutcome(job, status, faultAddr, startNs, loop.now(), data));
        if (onAbortDone != null) {
            onAbortDone.run();
        }
    }

    /** A device step in the trace; formatted only when a sink reads it. */
    void trace(String symbol, String format, Object... args) {
        loop.trace().step(loop.now(), Layer.DEVICE, symbol, format, args);
    }
}
