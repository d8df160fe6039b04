package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.io.ByteArrayOutputStream;
import java.util.function.Consumer;

/**
 * Runs one {@link DmaJob} page by page, as an SVA-capable DMA engine does: ATC lookup, ATS
 * Translation Request on a miss, a one-request page request group when the translation is not
 * accessible, retry after Success, then the translated memory request. Without ATS it issues
 * untranslated requests and the IOMMU translates them.
 */
final class DmaEngine {

    private static final long PAGE = 4096;

    private final PcieEndpoint ep;
    private final EventLoop loop;
    private final DmaJob job;
    private final Consumer<DmaOutcome> done;
    private final long startNs;
    private final ByteArrayOutputStream readData = new ByteArrayOutputStream();
    private long cursor;
    private int retries;

    DmaEngine(PcieEndpoint ep, DmaJob job, Consumer<DmaOutcome> done) {
        this.ep = ep;
        this.loop = ep.loop();
        this.job = job;
        this.done = done;
        this.startNs = loop.now();
        this.cursor = job.addr();
    }

    void start() {
        loop.trace().step(loop.now(), Layer.DEVICE, "dma", String.format("%s starts DMA %s %#x+%d%s",
                ep.config().name(), job.access().name().toLowerCase(), job.addr(), job.size(),
                job.pasid() >= 0 ? " PASID " + job.pasid() : ""));
        nextChunk();
    }

    private long end() {
        return job.addr() + job.size();
    }

    private boolean pasidTagged() {
        return job.pasid() >= 0 && ep.pasidEnabled();
    }

    private void nextChunk() {
        if (cursor >= end()) {
            finish(DmaStatus.OK, -1);
            return;
        }
        if (job.pasid() >= 0 && !ep.pasidEnabled()) {
            finish(DmaStatus.UR, cursor);
            return;
        }
        if (!ep.atsEnabled()) {
            memoryRequest(AddressType.UNTRANSLATED, cursor);
            return;
        }
        long page = cursor & ~(PAGE - 1);
        AtsCompletion cached = ep.atc.lookup(pasidTag(), page);
        if (cached != null && cached.grants(needWrite(), needExec())) {
            memoryRequest(AddressType.TRANSLATED, cached.translatedAddr() | (cursor & (PAGE - 1)));
            return;
        }
        translationRequest(page);
    }

    private int pasidTag() {
        return pasidTagged() ? job.pasid() : -1;
    }

    private boolean needWrite() {
        return job.access() == Access.WRITE;
    }

    private boolean needExec() {
        return job.access() == Access.EXEC;
    }

    private void translationRequest(long page) {
        AtsTranslationRequest tr = new AtsTranslationRequest(ep.rid(), pasidTagged(), Math.max(job.pasid(), 0), page,
                !needWrite(), needExec(), job.privileged());
        loop.schedule(ep.timing().pcieTlpNs(), "ats-translation-request", () -> {
            AtsCompletion completion = ep.iommu().translationRequest(tr);
            loop.schedule(ep.timing().iommuWalkNs() + ep.timing().pcieTlpNs(), "ats-completion",
                    () -> onTranslation(page, completion));
        });
    }

    private void onTranslation(long page, AtsCompletion completion) {
        String name = ep.config().name();
        if (completion.status() != CompletionStatus.SUCCESS) {
            loop.trace().step(loop.now(), Layer.DEVICE, "ats", name + " ATS completion " + completion.status());
            finish(completion.status() == CompletionStatus.UR ? DmaStatus.UR : DmaStatus.CA, cursor);
            return;
        }
        if (completion.grants(needWrite(), needExec())) {
            loop.trace().step(loop.now(), Layer.DEVICE, "ats", String.format(
                    "%s ATS completion Success %s -> %#x, fills ATC", name, rights(completion), completion.translatedAddr()));
            ep.atc.fill(pasidTag(), page, completion);
            memoryRequest(AddressType.TRANSLATED, completion.translatedAddr() | (cursor & (PAGE - 1)));
            return;
        }
        loop.trace().step(loop.now(), Layer.DEVICE, "ats", String.format(
                "%s ATS completion Success %s for %#x: not accessible for %s", name, rights(completion), page,
                job.access().name().toLowerCase()));
        if (!ep.priUsable()) {
            finish(ep.priState().responseFailure() ? DmaStatus.PRI_FAILED : DmaStatus.UR, cursor);
            return;
        }
        requestPage(page);
    }

    private static String rights(AtsCompletion c) {
        return "R=" + (c.read() ? 1 : 0) + " W=" + (c.write() ? 1 : 0);
    }

    private void requestPage(long page) {
        int prgi = ep.allocatePrgi();
        if (prgi < 0) {
            loop.schedule(ep.timing().pcieTlpNs(), "prgi-wait", () -> requestPage(page));
            return;
        }
        PageRequestMessage pr = new PageRequestMessage(ep.rid(), pasidTagged(), Math.max(job.pasid(), 0),
                needExec() && pasidTagged(), job.privileged() && pasidTagged(), !needWrite() || needExec(),
                needWrite(), true, prgi, page);
        ep.sendPageRequest(pr, code -> onPrgResponse(page, code));
    }

    private void onPrgResponse(long page, PrgResponseCode code) {
        switch (code) {
            case SUCCESS -> {
                if (++retries > ep.config().maxPriRetries()) {
                    finish(DmaStatus.RETRY_LIMIT, cursor);
                } else {
                    translationRequest(page);
                }
            }
            case INVALID_REQUEST -> finish(DmaStatus.INVALID, cursor);
            case RESPONSE_FAILURE -> finish(DmaStatus.PRI_FAILED, cursor);
            default -> throw new AssertionError(code);
        }
    }

    private void memoryRequest(AddressType type, long addr) {
        long pageEnd = (cursor & ~(PAGE - 1)) + PAGE;
        int length = (int) (Math.min(pageEnd, end()) - cursor);
        byte[] data = null;
        if (job.access() == Access.WRITE) {
            data = new byte[length];
            System.arraycopy(job.data(), (int) (cursor - job.addr()), data, 0, length);
        }
        DmaRequest request = new DmaRequest(ep.rid(), type, pasidTagged(), Math.max(job.pasid(), 0), addr, length,
                job.access(), job.privileged(), data);
        loop.schedule(ep.timing().pcieTlpNs(), "memory-request", () -> {
            DmaCompletion completion = ep.iommu().memoryRequest(request);
            long latency = ep.timing().memoryAccessNs() + (job.access() == Access.WRITE ? 0 : ep.timing().pcieTlpNs());
            loop.schedule(latency, "memory-completion", () -> onMemoryCompletion(length, completion));
        });
    }

    private void onMemoryCompletion(int length, DmaCompletion completion) {
        if (!completion.ok()) {
            DmaStatus status = switch (job.access()) {
                case WRITE -> DmaStatus.DROPPED;
                default -> completion.status() == CompletionStatus.CA ? DmaStatus.CA : DmaStatus.UR;
            };
            finish(status, cursor);
            return;
        }
        loop.trace().step(loop.now(), Layer.DEVICE, "dma", String.format("%s %s %d bytes at %#x done",
                ep.config().name(), job.access() == Access.WRITE ? "wrote" : "read", length, cursor));
        readData.writeBytes(completion.data());
        retries = 0;
        cursor += length;
        nextChunk();
    }

    private void finish(DmaStatus status, long faultAddr) {
        loop.trace().step(loop.now(), Layer.DEVICE, "dma", String.format("%s DMA %#x+%d ends: %s%s",
                ep.config().name(), job.addr(), job.size(), status.label(),
                faultAddr >= 0 ? String.format(" at %#x", faultAddr) : ""));
        byte[] data = status == DmaStatus.OK && job.access() != Access.WRITE ? readData.toByteArray() : new byte[0];
        done.accept(new DmaOutcome(job, status, faultAddr, startNs, loop.now(), data));
    }
}
