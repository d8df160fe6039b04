package dev.iommulab.core.dma;

import static dev.iommulab.core.dma.DmaDirection.DMA_TO_DEVICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import org.junit.jupiter.api.Test;

/**
 * The flush queue of a DMA_FQ domain (drivers/iommu/dma-iommu.c: __iommu_dma_unmap() with a queued gather,
 * queue_iova(), fq_flush_timeout(), fq_ring_free_locked()): an unmapped IOVA is not synced and not freed until a
 * whole-IOTLB flush, forced by a full ring or by the timer on the event loop.
 */
class IommuDmaFlushQueueTest {

    private static final long TIMEOUT = 10_000_000L;

    private final DmaFixture f = new DmaFixture(new DmaFlush(DmaFlush.Mode.LAZY, 4, TIMEOUT));
    private final IommuDomain domain = f.attach(DomainType.DMA_FQ);

    private long mapAndUnmap(long phys) {
        long addr = f.dma.dmaMapSingle(f.dev, phys, 4096, DMA_TO_DEVICE);
        f.dma.dmaUnmapSingle(f.dev, addr, 4096, DMA_TO_DEVICE);
        return addr;
    }

    /**
     * queue_iova(): after a lazy unmap the page table no longer maps the IOVA, nothing is invalidated, the IOVA is
     * not handed out again and the timer is armed.
     */
    @Test
    void dmaUnmapSingle_lazy_noInvalidationAndIovaHeldBack() {
        long addr = mapAndUnmap(0x20_0000L);

        assertThat(IommuMap.iovaToPhys(domain, addr)).isZero();
        assertThat(f.flushes).isEmpty();
        assertThat(f.dma.flushQueueDepth(domain)).isEqualTo(1);
        assertThat(f.dma.cookieOf(domain).timerOn()).isTrue();
        assertThat(f.dma.dmaMapSingle(f.dev, 0x30_0000L, 4096, DMA_TO_DEVICE)).isNotEqualTo(addr);
    }

    /**
     * fq_flush_timeout(): IOVA_FQ_TIMEOUT after the first queued unmap the timer flushes the whole IOTLB once and
     * frees every queued IOVA; the next mapping gets the last freed one back from the range cache.
     */
    @Test
    void flushTimeout_timerFires_flushAllOnceAndIovasFreed() {
        long a = mapAndUnmap(0x20_0000L);
        f.loop.runFor(TIMEOUT / 2);
        long b = mapAndUnmap(0x20_1000L);
        f.loop.runFor(TIMEOUT / 2 - 1);
        assertThat(f.flushes).as("not before the timeout").isEmpty();

        f.loop.runFor(1);

        assertThat(f.flushes).containsExactly("all");
        assertThat(f.dma.flushQueueDepth(domain)).isZero();
        assertThat(f.dma.cookieOf(domain).timerOn()).isFalse();
        assertThat(f.dma.dmaMapSingle(f.dev, 0x30_0000L, 4096, DMA_TO_DEVICE)).isEqualTo(b);
        assertThat(f.dma.dmaMapSingle(f.dev, 0x30_1000L, 4096, DMA_TO_DEVICE)).isEqualTo(a);
    }

    /**
     * fq_full(): a ring of 4 slots holds 3 entries; the 4th unmap forces fq_flush_iotlb() and frees the 3, then
     * is queued itself (with the new flush count, so it waits for the next flush).
     */
    @Test
    void queueIova_ringFull_forcesFlushAndKeepsNewEntry() {
        for (int i = 0; i < 3; i++) {
            mapAndUnmap(0x20_0000L + i * 4096L);
        }
        assertThat(f.flushes).isEmpty();
        assertThat(f.dma.flushQueueDepth(domain)).isEqualTo(3);

        mapAndUnmap(0x20_3000L);

        assertThat(f.flushes).containsExactly("all");
        assertThat(f.dma.flushQueueDepth(domain)).isEqualTo(1);
        assertThat(f.dma.flushQueueFlushes(domain)).isEqualTo(1);
    }

    /** Table pages unlinked by a lazy unmap go back to the page allocator only after the flush. */
    @Test
    void dmaUnmapSingle_lazy_tablePagesFreedAfterFlush() {
        long before = f.frames.allocatedFrames();
        long addr = f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE);
        long withTables = f.frames.allocatedFrames();
        f.dma.dmaUnmapSingle(f.dev, addr, 4096, DMA_TO_DEVICE);
        assertThat(f.frames.allocatedFrames()).isEqualTo(withTables);

        f.loop.runUntilIdle();

        assertThat(withTables).isGreaterThan(before);
        assertThat(f.frames.allocatedFrames()).isEqualTo(before);
    }

    /**
     * iommu_dma_init_domain(): without IOMMU_CAP_DEFERRED_FLUSH a DMA_FQ domain becomes DMA, so unmaps sync at
     * once.
     */
    @Test
    void initDomain_driverWithoutDeferredFlush_fallsBackToStrict() {
        DmaFixture g = new DmaFixture(DmaFlush.DEFAULT);
        g.deferredFlush = false;
        IommuDomain d = g.attach(DomainType.DMA_FQ);
        long addr = g.dma.dmaMapSingle(g.dev, 0x20_0000L, 4096, DMA_TO_DEVICE);

        g.dma.dmaUnmapSingle(g.dev, addr, 4096, DMA_TO_DEVICE);

        assertThat(d.type()).isEqualTo(DomainType.DMA);
        assertThat(g.flushes).containsExactly("sync 0xfffff000-0xffffffff");
        assertThat(g.dma.flushQueueDepth(d)).isZero();
    }

    /** The policy's default: lazy (DMA_FQ), IOVA_DEFAULT_FQ_SIZE slots, IOVA_DEFAULT_FQ_TIMEOUT. */
    @Test
    void dmaFlushDefault_kernelX86Default_lazy256Slots10ms() {
        assertThat(DmaFlush.DEFAULT.domainType()).isEqualTo(DomainType.DMA_FQ);
        assertThat(DmaFlush.DEFAULT.batch()).isEqualTo(256);
        assertThat(DmaFlush.DEFAULT.timeoutNs()).isEqualTo(10_000_000L);
    }
}
