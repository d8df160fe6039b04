package dev.iommulab.bench;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.dma.DmaDirection;
import dev.iommulab.core.dma.DmaFlush;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.lab.machine.Machine;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * dma_map_single() + dma_unmap_single() of a 4 KiB buffer (iommu_dma_map_page() / iommu_dma_unmap_page()) for a
 * NIC on the lab's VT-d machine with a DMA domain at its RID: IOVA from the range cache, iommu_map() of one leaf,
 * then {@code strict} — iommu_unmap_fast(), the driver's page-selective PASID-IOTLB invalidation through the
 * invalidation queue, free_iova_fast() — or {@code lazy} — the unmap and queue_iova(), with a whole-domain flush
 * every 255 operations when the 256-slot queue is full. Each operation then lets 1 us of simulated time pass, which
 * delivers the invalidation queue's completion interrupts (the 10 ms timer fires only every 10 000 operations,
 * after the full queue has flushed many times).
 */
public class DmaMapUnmapBenchmark extends LabBenchmark {

    private static final long BUF = 0x0400_0000L;
    /** Simulated time per operation, so the invalidation-completion interrupts of strict unmaps are delivered. */
    private static final long STEP_NS = 1_000;

    @Param({"strict", "lazy"})
    public String flush;

    private IommuDma dma;
    private Device dev;
    private EventLoop loop;

    @Setup(Level.Trial)
    public void build() throws Exception {
        Machine machine = Machine.builder().hardware("vtd").device("nic0", "00:04.0", d -> d.profile("nic"))
                .policy("dma.flush", flush).build();
        dev = machine.device("nic0");
        dma = machine.dma();
        loop = machine.loop();
        IommuCore core = machine.core();
        IommuDomain domain = core.domainAllocPaging(dev, dma.dmaDomainType(), 0);
        core.attachDevice(domain, dev);
        dma.initDomain(domain, dev);
        if (dma.options().mode() != (flush.equals("lazy") ? DmaFlush.Mode.LAZY : DmaFlush.Mode.STRICT)) {
            throw new IllegalStateException("policy not applied");
        }
    }

    @Benchmark
    public long mapUnmapSingle() {
        long iova = dma.dmaMapSingle(dev, BUF, 4096, DmaDirection.DMA_TO_DEVICE);
        dma.dmaUnmapSingle(dev, iova, 4096, DmaDirection.DMA_TO_DEVICE);
        loop.runFor(STEP_NS);
        return iova;
    }
}
