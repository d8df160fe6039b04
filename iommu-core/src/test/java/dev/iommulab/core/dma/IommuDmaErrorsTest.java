package dev.iommulab.core.dma;

import static dev.iommulab.core.dma.DmaDirection.DMA_BIDIRECTIONAL;
import static dev.iommulab.core.dma.DmaDirection.DMA_FROM_DEVICE;
import static dev.iommulab.core.dma.DmaDirection.DMA_NONE;
import static dev.iommulab.core.dma.DmaDirection.DMA_TO_DEVICE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Every errno of the DMA API, each with nothing changed: the allocator's ranges and range cache, the live
 * mappings, the translations and the driver's flushes are the same after the failed call.
 */
class IommuDmaErrorsTest {

    private final DmaFixture f = new DmaFixture(DmaFlush.DEFAULT);
    private IommuDomain domain;
    private long mapped;

    private String state() {
        if (domain == null) {
            return String.valueOf(f.dma.liveMappings(f.dev));
        }
        IovaDomain iovad = f.dma.cookieOf(domain).iovad();
        return iovad.ranges() + " cached " + iovad.cachedRanges() + " live " + f.dma.liveMappings(f.dev)
                + " fq " + f.dma.flushQueueDepth(domain) + " flushes " + f.flushes + " frames "
                + f.frames.allocatedFrames() + " pa " + IommuMap.iovaToPhys(domain, mapped);
    }

    private void attachWithOneMapping() {
        domain = f.attach(DomainType.DMA_FQ);
        mapped = f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE);
    }

    private void assertFails(Errno errno, String argument, Executable call) {
        String before = state();
        KernelException e = catchThrowableOfType(() -> {
            try {
                call.execute();
            } catch (Throwable t) {
                throw t instanceof RuntimeException r ? r : new RuntimeException(t);
            }
        }, KernelException.class);
        assertThat(e).as("expected %s", errno).isNotNull();
        assertThat(e.errno()).isEqualTo(errno);
        assertThat(e.argument()).isEqualTo(argument);
        assertThat(state()).isEqualTo(before);
    }

    /** No DMA domain at the RID (the blocking domain): ENODEV. */
    @Test
    void dmaMapSingle_blockedRid_enodev() {
        assertFails(Errno.ENODEV, "dev", () -> f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE));
    }

    /** An UNMANAGED domain (iommu_attach_device() by a user-space driver) is not the DMA API's: ENODEV. */
    @Test
    void dmaMapSingle_unmanagedDomain_enodev() {
        f.core.attachDevice(f.core.pagingDomainAlloc(f.dev), f.dev);
        assertFails(Errno.ENODEV, "dev", () -> f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE));
    }

    /** valid_dma_direction(): DMA_NONE is EINVAL (the kernel BUG()s). */
    @Test
    void dmaMapSingle_dmaNone_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "dir", () -> f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_NONE));
    }

    /** A size of 0 is EINVAL naming {@code size}. */
    @Test
    void dmaMapPage_zeroSize_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "size", () -> f.dma.dmaMapPage(f.dev, 0x20_0000L, 0, DMA_TO_DEVICE));
    }

    /** An empty scatterlist is EINVAL naming {@code nents}. */
    @Test
    void dmaMapSg_emptyList_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "nents", () -> f.dma.dmaMapSg(f.dev, List.of(), DMA_TO_DEVICE));
    }

    /**
     * alloc_iova_fast() finds no room below a 14-bit mask (pfns 1..3; the first mapping took 2..3): ENOMEM
     * (dma_mapping_error() of DMA_MAPPING_ERROR).
     */
    @Test
    void dmaMapSingle_iovaSpaceExhausted_enomem() {
        domain = f.attach(DomainType.DMA);
        f.dma.dmaSetMask(f.dev, 0x3fff);
        mapped = f.dma.dmaMapSingle(f.dev, 0x20_0000L, 8192, DMA_TO_DEVICE);
        assertThat(mapped).isEqualTo(0x2000);
        assertFails(Errno.ENOMEM, "size", () -> f.dma.dmaMapSingle(f.dev, 0x30_0000L, 8192, DMA_TO_DEVICE));
    }

    /**
     * iommu_map() fails for want of a table page: ENOMEM; the IOVA is taken back (the kernel frees it into the
     * range cache) and the next mapping gets the IOVA the failed one had.
     */
    @Test
    void dmaMapSingle_tablePageAllocationFails_enomemAndIovaReturned() {
        domain = f.attach(DomainType.DMA_FQ);
        f.failures.failNext(FrameAllocator.SITE, 1);
        assertFails(Errno.ENOMEM, "phys", () -> f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE));
        assertThat(f.dma.dmaMapSingle(f.dev, 0x20_0000L, 4096, DMA_TO_DEVICE)).isEqualTo(0xffff_f000L);
    }

    /** A scatterlist whose iommu_map_sg() fails: ENOMEM, nothing mapped. */
    @Test
    void dmaMapSg_tablePageAllocationFails_enomem() {
        domain = f.attach(DomainType.DMA_FQ);
        f.failures.failNext(FrameAllocator.SITE, 1);
        assertFails(Errno.ENOMEM, "phys", () -> f.dma.dmaMapSg(f.dev, List.of(new SgEntry(0x20_0000L, 4096),
                new SgEntry(0x40_0000L, 4096)), DMA_TO_DEVICE));
    }

    /** check_unmap(): an address the device never mapped is EINVAL naming {@code addr}. */
    @Test
    void dmaUnmapSingle_addressNotMapped_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "addr", () -> f.dma.dmaUnmapSingle(f.dev, mapped + 4096, 4096, DMA_TO_DEVICE));
    }

    /** check_unmap(): another size is EINVAL naming {@code size}; the mapping stays. */
    @Test
    void dmaUnmapSingle_differentSize_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "size", () -> f.dma.dmaUnmapSingle(f.dev, mapped, 2048, DMA_TO_DEVICE));
    }

    /** check_unmap(): another direction is EINVAL naming {@code dir}. */
    @Test
    void dmaUnmapSingle_differentDirection_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "dir", () -> f.dma.dmaUnmapSingle(f.dev, mapped, 4096, DMA_FROM_DEVICE));
    }

    /** check_unmap(): a scatterlist mapping unmapped with dma_unmap_single() is EINVAL naming {@code addr}. */
    @Test
    void dmaUnmapSingle_sgMapping_einval() {
        attachWithOneMapping();
        List<DmaSegment> segs = f.dma.dmaMapSg(f.dev, List.of(new SgEntry(0x40_0000L, 4096)), DMA_BIDIRECTIONAL);
        assertFails(Errno.EINVAL, "addr", () -> f.dma.dmaUnmapSingle(f.dev, segs.get(0).dmaAddress(), 4096,
                DMA_BIDIRECTIONAL));
    }

    /** check_unmap(): segments that are not what dma_map_sg() returned are EINVAL naming {@code sg}. */
    @Test
    void dmaUnmapSg_otherSegments_einval() {
        attachWithOneMapping();
        assertFails(Errno.EINVAL, "sg", () -> f.dma.dmaUnmapSg(f.dev, List.of(new DmaSegment(mapped, 4096)),
                DMA_TO_DEVICE));
    }

    /** A single mapping freed twice: the second unmap is EINVAL, the flush queue holds one entry. */
    @Test
    void dmaUnmapSingle_twice_secondEinval() {
        attachWithOneMapping();
        f.dma.dmaUnmapSingle(f.dev, mapped, 4096, DMA_TO_DEVICE);
        assertFails(Errno.EINVAL, "addr", () -> f.dma.dmaUnmapSingle(f.dev, mapped, 4096, DMA_TO_DEVICE));
        assertThat(f.dma.flushQueueDepth(domain)).isEqualTo(1);
    }

    /** initDomain() of a domain that is not a DMA domain: EINVAL naming {@code domain}. */
    @Test
    void initDomain_unmanagedDomain_einval() {
        IommuDomain d = f.core.pagingDomainAlloc(f.dev);
        assertFails(Errno.EINVAL, "domain", () -> f.dma.initDomain(d, f.dev));
    }
}
