package dev.iommulab.core.dma;

import static dev.iommulab.core.dma.DmaDirection.DMA_BIDIRECTIONAL;
import static dev.iommulab.core.dma.DmaDirection.DMA_TO_DEVICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * iommu_dma_map_page(), iommu_dma_map_sg() and their unmaps in strict mode (drivers/iommu/dma-iommu.c), read back
 * through the domain's io-pgtable (iommu_iova_to_phys()) and the driver's iotlb_sync calls.
 */
class IommuDmaMapTest {

    private final DmaFixture f = new DmaFixture(new DmaFlush(DmaFlush.Mode.STRICT, 256, 10_000_000L));
    private final IommuDomain domain = f.attach(DomainType.DMA);

    /**
     * __iommu_dma_map(): the first IOVA of a PCI device is the top page below 4 GiB (alloc_iova_fast() top-down
     * under DMA_BIT_MASK(32)); the DMA address keeps the buffer's offset in its page.
     */
    @Test
    void dmaMapSingle_firstMapping_topPageBelow4GiBPlusOffset() {
        long addr = f.dma.dmaMapSingle(f.dev, 0x20_0123L, 100, DMA_TO_DEVICE);

        assertThat(addr).isEqualTo(0xffff_f123L);
        assertThat(IommuMap.iovaToPhys(domain, addr)).isEqualTo(0x20_0123L);
    }

    /** A buffer crossing a page boundary takes two granules, aligned to two. */
    @Test
    void dmaMapPage_crossesPageBoundary_twoAlignedGranules() {
        long addr = f.dma.dmaMapPage(f.dev, 0x20_0f00L, 0x200, DMA_BIDIRECTIONAL);

        assertThat(addr).isEqualTo(0xffff_ef00L);
        assertThat(IommuMap.iovaToPhys(domain, 0xffff_f000L)).isEqualTo(0x20_1000L);
    }

    /**
     * iommu_dma_unmap_page() in strict mode: iommu_unmap_fast() then one iommu_iotlb_sync() of the range, then
     * free_iova_fast(): the next mapping of the same size reuses the IOVA.
     */
    @Test
    void dmaUnmapSingle_strict_syncsThenFreesForReuse() {
        long addr = f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE);

        f.dma.dmaUnmapSingle(f.dev, addr, 4096, DMA_TO_DEVICE);

        assertThat(f.flushes).containsExactly("sync 0xfffff000-0xffffffff");
        assertThat(IommuMap.iovaToPhys(domain, addr)).isZero();
        assertThat(f.dma.dmaMapSingle(f.dev, 0x30_0000L, 4096, DMA_TO_DEVICE)).isEqualTo(addr);
        assertThat(f.loop.isIdle()).as("no flush-queue timer in strict mode").isTrue();
    }

    /**
     * iommu_dma_map_sg(): one IOVA range of 3 granules (rounded to 4, aligned to 4); __finalise_sg() merges the two
     * physically contiguous page-aligned entries into one segment and starts a second one for the entry with an
     * offset, so dma_map_sg() returns 2.
     */
    @Test
    void dmaMapSg_threeEntries_oneRangeTwoSegments() {
        List<DmaSegment> segs = f.dma.dmaMapSg(f.dev, List.of(new SgEntry(0x30_0000L, 4096),
                new SgEntry(0x30_1000L, 4096), new SgEntry(0x50_0800L, 0x100)), DMA_BIDIRECTIONAL);

        assertThat(segs).containsExactly(new DmaSegment(0xffff_c000L, 8192), new DmaSegment(0xffff_e800L, 0x100));
        assertThat(IommuMap.iovaToPhys(domain, 0xffff_d000L)).isEqualTo(0x30_1000L);
        assertThat(IommuMap.iovaToPhys(domain, 0xffff_e800L)).isEqualTo(0x50_0800L);
    }

    /** __finalise_sg(): a contiguous run is cut at dma_get_max_seg_size() (64 KiB for PCI). */
    @Test
    void dmaMapSg_runBeyondMaxSegmentSize_splitAt64KiB() {
        List<SgEntry> sg = new java.util.ArrayList<>();
        for (int i = 0; i < 17; i++) {
            sg.add(new SgEntry(0x40_0000L + i * 4096L, 4096));
        }

        List<DmaSegment> segs = f.dma.dmaMapSg(f.dev, sg, DMA_TO_DEVICE);

        assertThat(segs).extracting(DmaSegment::length).containsExactly(65536L, 4096L);
        assertThat(segs.get(1).dmaAddress()).isEqualTo(segs.get(0).dmaAddress() + 65536);
    }

    /** iommu_dma_unmap_sg(): the whole range from the first segment to the end of the last, one sync. */
    @Test
    void dmaUnmapSg_mappedList_unmapsWholeRangeWithOneSync() {
        List<DmaSegment> segs = f.dma.dmaMapSg(f.dev, List.of(new SgEntry(0x30_0000L, 4096),
                new SgEntry(0x50_0800L, 0x100)), DMA_BIDIRECTIONAL);

        f.dma.dmaUnmapSg(f.dev, segs, DMA_BIDIRECTIONAL);

        assertThat(f.flushes).containsExactly("sync 0xffffe000-0xffffffff");
        assertThat(f.dma.liveMappings(f.dev)).isEmpty();
        assertThat(IommuMap.iovaToPhys(domain, segs.get(0).dmaAddress())).isZero();
    }

    /** iova_reserve_iommu_regions(): the MSI window is reserved, the SW_MSI region is not. */
    @Test
    void initDomain_resvRegions_msiReservedSwMsiSkipped() {
        IovaDomain iovad = f.dma.cookieOf(domain).iovad();

        assertThat(iovad.findIova(0xfee00L)).isNotNull();
        assertThat(iovad.findIova(0xfeeffL)).isNotNull();
        assertThat(iovad.findIova(0x80000L)).isNull();
    }

    /**
     * iommu_dma_alloc_iova(): with a 64-bit mask the device first gets 32-bit IOVAs (pci_32bit_workaround); when
     * they run out it logs "Using 64-bit DMA addresses" once and allocates below the aperture (2^47 for a VT-d
     * first-stage domain).
     */
    @Test
    void dmaMapPage_64BitMaskAnd32BitSpaceFull_fallsBackAboveAndLogsOnce() {
        f.dma.dmaSetMask(f.dev, IommuDma.DMA_BIT_MASK_64);
        f.dma.cookieOf(domain).iovad().reserveIova(1, 0xfffffL);

        long a = f.dma.dmaMapPage(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE);
        long b = f.dma.dmaMapPage(f.dev, 0x20_1000L, 4096, DMA_TO_DEVICE);

        assertThat(a).isEqualTo((1L << 47) - 4096);
        assertThat(b).isEqualTo((1L << 47) - 8192);
        assertThat(f.log.lines()).extracting(l -> l.text())
                .containsExactly("0000:00:04.0: Using 47-bit DMA addresses");
    }
}
