package dev.iommulab.drivers.intel;

import static dev.iommulab.core.dma.DmaDirection.DMA_TO_DEVICE;
import static dev.iommulab.drivers.intel.IntelDomainFixture.ACC_RID;
import static dev.iommulab.drivers.intel.IntelDomainFixture.domainId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.dma.DmaFlush;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.vtd.QiDescriptor;
import org.junit.jupiter.api.Test;

/**
 * The DMA API (iommu_dma_map_page() / iommu_dma_unmap_page() in drivers/iommu/dma-iommu.c) over the VT-d driver
 * and hardware model: the device reaches the buffer at the IOVA dma_map_single() returned, with the access its
 * direction allows; after dma_unmap_single() a strict domain has invalidated the IOTLB (the next DMA faults),
 * while a lazy one (DMA_FQ) leaves the translation cached in the IOTLB or the function's ATC until the flush
 * queue's whole flush (cache_tag_flush_all(), from fq_flush_timeout() or a full queue): the stale window.
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelDmaApiTest {

    private static final long TIMEOUT = 10_000_000L;
    private static final long BUF = 0x0500_0000L;
    /** Within the window: well after the DMA completes, well before the timer. */
    private static final long SHORT = 100_000L;

    private final IntelDomainFixture f = new IntelDomainFixture();

    private IommuDma dma(DmaFlush.Mode mode, int batch) {
        return new IommuDma(f.core, f.loop, f.log, new DmaFlush(mode, batch, TIMEOUT));
    }

    private IommuDomain attach(IommuDma dma, Device dev) {
        IommuDomain d = f.core.domainAllocPaging(dev, dma.dmaDomainType(), 0);
        f.core.attachDevice(d, dev);
        dma.initDomain(d, dev);
        return d;
    }

    /** dma_map_single() of a 4 KiB page filled with {@code fill}, read once by {@code ep} (OK): a warm translation. */
    private long mapAndRead(IommuDma dma, Device dev, PcieEndpoint ep, long page, int fill) {
        long addr = dma.dmaMapSingle(dev, f.dataPage(page, fill), 4096, DMA_TO_DEVICE);
        assertThat(dmaNow(ep, addr, Access.READ, null).status()).isEqualTo(DmaStatus.OK);
        return addr;
    }

    /** Runs one DMA and only {@link #SHORT} of simulated time (the flush-queue timer does not fire). */
    private DmaOutcome dmaNow(PcieEndpoint ep, long addr, Access access, byte[] data) {
        DmaOutcome[] out = new DmaOutcome[1];
        ep.startDma(new DmaJob(addr, data == null ? 64 : data.length, access, -1, false, data), o -> out[0] = o);
        f.loop.runFor(SHORT);
        return out[0];
    }

    /**
     * Lazy, NIC without ATS: after the unmap the DMA still reads the old page through the IOTLB and nothing was
     * queued to the invalidation queue; the timer's flush queues one PASID-IOTLB invalidation of the whole DID,
     * after which the same DMA faults 0x71 (UR).
     */
    @Test
    void dmaUnmapSingle_lazy_iotlbStaleUntilTimerFlush() {
        IommuDma dma = dma(DmaFlush.Mode.LAZY, 256);
        IommuDomain d = attach(dma, f.nic);
        long addr = mapAndRead(dma, f.nic, f.nicEp, BUF, 0x5a);
        long mark = f.qiMark();

        dma.dmaUnmapSingle(f.nic, addr, 4096, DMA_TO_DEVICE);
        DmaOutcome stale = dmaNow(f.nicEp, addr, Access.READ, null);

        assertThat(stale.status()).as("inside the window").isEqualTo(DmaStatus.OK);
        assertThat(stale.data()).containsOnly((byte) 0x5a);
        assertThat(f.qiSince(mark)).isEmpty();
        f.loop.runFor(TIMEOUT);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidIotlbAll(domainId(d), 0));
        assertThat(dmaNow(f.nicEp, addr, Access.READ, null).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::vendorCode).containsExactly(0x71);
    }

    /** Strict: the unmap syncs the IOTLB before returning; the next DMA faults at once. */
    @Test
    void dmaUnmapSingle_strict_nextDmaFaultsImmediately() {
        IommuDma dma = dma(DmaFlush.Mode.STRICT, 256);
        IommuDomain d = attach(dma, f.nic);
        long addr = mapAndRead(dma, f.nic, f.nicEp, BUF, 0x5a);
        long mark = f.qiMark();

        dma.dmaUnmapSingle(f.nic, addr, 4096, DMA_TO_DEVICE);

        assertThat(d.type()).isEqualTo(DomainType.DMA);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidIotlbPages(domainId(d), 0, addr, 0));
        assertThat(dmaNow(f.nicEp, addr, Access.READ, null).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.loop.isIdle()).isTrue();
    }

    /**
     * Lazy with a 4-slot queue: the fourth unmap finds the ring full and forces the flush, closing the window of
     * the first buffer with no timer involved.
     */
    @Test
    void dmaUnmapSingle_lazyQueueFull_flushClosesWindowBeforeTimer() {
        IommuDma dma = dma(DmaFlush.Mode.LAZY, 4);
        IommuDomain d = attach(dma, f.nic);
        long first = 0;
        for (int i = 0; i < 4; i++) {
            long addr = mapAndRead(dma, f.nic, f.nicEp, BUF + i * 4096L, 0x10 + i);
            first = i == 0 ? addr : first;
            if (i == 3) {
                assertThat(dmaNow(f.nicEp, first, Access.READ, null).status()).as("before the 4th unmap")
                        .isEqualTo(DmaStatus.OK);
            }
            dma.dmaUnmapSingle(f.nic, addr, 4096, DMA_TO_DEVICE);
        }

        assertThat(dma.flushQueueFlushes(d)).isEqualTo(1);
        assertThat(dmaNow(f.nicEp, first, Access.READ, null).status()).isEqualTo(DmaStatus.UR);
    }

    /**
     * Lazy on an ATS function: the translation sits in its ATC, so translated requests keep reaching the old page
     * after the unmap; the timer's flush_iotlb_all also invalidates the whole device-TLB, and then the DMA is
     * refused.
     */
    @Test
    void dmaUnmapSingle_lazyAtsFunction_atcStaleUntilDeviceTlbFlush() {
        IommuDma dma = dma(DmaFlush.Mode.LAZY, 256);
        IommuDomain d = attach(dma, f.acc);
        long addr = mapAndRead(dma, f.acc, f.accEp, BUF, 0x42);
        long mark = f.qiMark();

        dma.dmaUnmapSingle(f.acc, addr, 4096, DMA_TO_DEVICE);
        DmaOutcome stale = dmaNow(f.accEp, addr, Access.READ, null);
        f.loop.runFor(TIMEOUT);

        assertThat(stale.status()).isEqualTo(DmaStatus.OK);
        assertThat(stale.data()).containsOnly((byte) 0x42);
        assertThat(f.qiSince(mark)).containsExactly(QiDescriptor.pasidIotlbAll(domainId(d), 0),
                IntelDomains.deviceTlbAll(ACC_RID, 0));
        assertThat(dmaNow(f.accEp, addr, Access.READ, null).status()).isEqualTo(DmaStatus.UR);
    }

    /**
     * intel_iommu_get_resv_regions(): the IOAPIC window is reserved in the IOVA space, so IOVAs walking down from
     * 4 GiB in 1 MiB steps jump from 0xfef00000 to 0xfed00000.
     */
    @Test
    void dmaMapPage_walkDownFrom4GiB_skipsMsiWindow() {
        IommuDma dma = dma(DmaFlush.Mode.STRICT, 256);
        attach(dma, f.nic);
        long last = 0;
        for (int i = 0; i < 18; i++) {
            last = dma.dmaMapPage(f.nic, 0x0200_0000L, 1L << 20, DMA_TO_DEVICE);
        }

        assertThat(last).isEqualTo(0xfed0_0000L);
    }
}
