package dev.iommulab.core.dma;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.hw.sim.EventHandle;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.List;

/**
 * {@code struct iommu_dma_cookie} of a DMA domain (drivers/iommu/dma-iommu.c): its IOVA allocator and, for a
 * DMA_FQ domain, the flush queue with its counters and timer (one queue: the lab has one CPU). The timer is an
 * event on the machine's {@link EventLoop}, never a thread or the wall clock.
 */
final class DmaCookie {

    private final IommuDomain domain;
    private final IovaDomain iovad;
    private final EventLoop loop;
    private final FlushQueue fq;
    private final long fqTimeoutNs;
    private long flushStartCnt;
    private long flushFinishCnt;
    private EventHandle fqTimer;

    /** A cookie whose flush queue (null for strict) has {@code options}' size and timeout. */
    DmaCookie(IommuDomain domain, IovaDomain iovad, EventLoop loop, DmaFlush options, boolean withFq) {
        this.domain = domain;
        this.iovad = iovad;
        this.loop = loop;
        this.fq = withFq ? new FlushQueue(options.batch()) : null;
        this.fqTimeoutNs = options.timeoutNs();
    }

    IovaDomain iovad() {
        return iovad;
    }

    /** {@code cookie->fq_domain != NULL}: unmaps are queued, not synced. */
    boolean queued() {
        return fq != null;
    }

    /** Entries waiting in the flush queue (0 without one). */
    int fqDepth() {
        return fq == null ? 0 : fq.depth();
    }

    /** {@code fq_flush_finish_cnt}: whole-IOTLB flushes the queue has completed. */
    long flushes() {
        return flushFinishCnt;
    }

    /** Whether the queue's timer is armed ({@code fq_timer_on}). */
    boolean timerOn() {
        return fqTimer != null;
    }

    /**
     * Counterpart of queue_iova(): frees what earlier flushes covered; a full ring first forces a flush
     * (fq_flush_iotlb()) and frees again; then the range is added with the current flush-start count and the
     * timer is armed unless it already is.
     */
    void queueIova(long pfn, long pages, List<Long> freelist) {
        ringFree();
        if (fq.full()) {
            loop.trace().step(loop.now(), Layer.CORE, "queue_iova", "flush queue full (%d entries): flush", fq.depth());
            flushIotlb();
            ringFree();
        }
        fq.add(new FlushQueue.Entry(pfn, pages, List.copyOf(freelist), flushStartCnt));
        if (fqTimer == null) {
            fqTimer = loop.schedule(fqTimeoutNs, "fq_flush_timeout", this::flushTimeout);
        }
    }

    /**
     * Counterpart of fq_flush_timeout(): the timer fired; flush the whole IOTLB and free every entry queued before
     * the flush began.
     */
    void flushTimeout() {
        fqTimer = null;
        loop.trace().step(loop.now(), Layer.CORE, "fq_flush_timeout", "%d queued IOVA range(s): flush", fq.depth());
        flushIotlb();
        ringFree();
    }

    /** fq_flush_iotlb(): the driver's flush_iotlb_all between the two counters. */
    private void flushIotlb() {
        flushStartCnt++;
        IommuMap.flushIotlbAll(domain);
        flushFinishCnt++;
    }

    /**
     * fq_ring_free_locked(): entries queued before the last completed flush give their table pages back
     * (iommu_put_pages_list()) and their IOVA to the allocator (free_iova_fast()), oldest first.
     */
    private void ringFree() {
        for (FlushQueue.Entry e = fq.first(); e != null && e.counter() < flushFinishCnt; e = fq.first()) {
            if (!e.freelist().isEmpty() && domain.pgtable() != null) {
                domain.pgtable().putPages(e.freelist());
            }
            iovad.freeIovaFast(e.iovaPfn(), e.pages());
            fq.removeFirst();
        }
    }
}
