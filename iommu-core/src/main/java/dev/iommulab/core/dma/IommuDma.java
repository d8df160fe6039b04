package dev.iommulab.core.dma;

import com.google.inject.Inject;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The DMA API over an IOMMU, drivers/iommu/dma-iommu.c: a driver maps a buffer for its device and gets the IOVA
 * the device must use ({@link #dmaMapPage}, {@link #dmaMapSg}), and unmaps it when the device is done
 * ({@link #dmaUnmapPage}, {@link #dmaUnmapSg}). IOVAs come from the domain's {@link IovaDomain} (top-down below
 * the device's DMA mask, the driver's reserved regions left out); mappings go through {@link IommuMap} into the
 * domain's io-pgtable. After an unmap a DMA domain ({@link DomainType#DMA}) syncs the IOTLB before the IOVA is
 * freed; a DMA_FQ domain puts the IOVA in its flush queue, freed after a later whole-IOTLB flush (queue full or
 * timer, {@link DmaFlush}), so until then the device may still reach the old page through a cached translation.
 *
 * <p>Lab difference: the kernel's DMA API translates through the group's default domain
 * (iommu_get_dma_domain()); the lab's groups default to their blocking domain, so here the DMA API uses the
 * domain at the device's RID when it is of type DMA or DMA_FQ (a domain allocated as the default would be).
 * A call that fails throws {@link KernelException} and changes nothing (the kernel returns DMA_MAPPING_ERROR,
 * which dma_mapping_error() reports as -ENOMEM, or a negative errno from dma_map_sgtable()).
 *
 * <p>Why over 300 lines: the DMA API's map/unmap calls for pages, single buffers and scatterlists, each with its
 * contract; IOVA allocation, flush queues and scatterlist layout are in {@link IovaDomain}, {@link FlushQueue} and
 * {@link SgLayout}.
 */
public final class IommuDma {

    /** DMA_BIT_MASK(32): the mask a PCI device has until its driver calls dma_set_mask() (pci_setup_device()). */
    public static final long DMA_BIT_MASK_32 = 0xffff_ffffL;
    /** DMA_BIT_MASK(64). */
    public static final long DMA_BIT_MASK_64 = -1L;
    /** dma_get_max_seg_size() of a PCI device (pci_device_add(): 64 KiB). */
    static final long PCI_MAX_SEG_SIZE = 65536;
    /** dma_get_seg_boundary() of a PCI device (pci_device_add(): 4 GiB - 1). */
    static final long PCI_SEG_BOUNDARY = 0xffff_ffffL;

    private final IommuCore core;
    private final EventLoop loop;
    private final KernelLog log;
    private final DmaFlush options;
    private final Map<IommuDomain, DmaCookie> cookies = new IdentityHashMap<>();
    private final Map<Device, DevDma> devices = new HashMap<>();
    private final DmaDebug debug = new DmaDebug();

    /** Per-device DMA state: {@code dev->dma_mask} and {@code dev->iommu->pci_32bit_workaround}. */
    private static final class DevDma {
        long dmaMask = DMA_BIT_MASK_32;
        boolean pci32bitWorkaround = true;
    }

    @Inject
    public IommuDma(IommuCore core, EventLoop loop, KernelLog log, DmaFlush options) {
        this.core = core;
        this.loop = loop;
        this.log = log;
        this.options = options;
    }

    /** The policy in force: the domain type DMA domains are allocated with, and the flush queue's size and timeout. */
    public DmaFlush options() {
        return options;
    }

    /** iommu_def_domain_type for DMA: DMA_FQ under {@code dma.flush: lazy}, DMA under {@code strict}. */
    public DomainType dmaDomainType() {
        return options.domainType();
    }

    /** Counterpart of dma_set_mask(): dma-iommu accepts every mask (dma_supported() is true). */
    public void dmaSetMask(Device dev, long mask) {
        dev(dev).dmaMask = mask;
    }

    /** Counterpart of dma_get_mask(). */
    public long dmaGetMask(Device dev) {
        return dev(dev).dmaMask;
    }

    /**
     * Counterpart of iommu_setup_dma_ops() with iommu_dma_init_domain(): gives {@code domain} its IOVA allocator
     * (granule = smallest page size, IOVA 0 never handed out), reserves the regions the driver reports for
     * {@code dev} (all but IOMMU_RESV_SW_MSI; the lab's PCI host bridge has no windows to reserve) and, for a
     * DMA_FQ domain, its flush queue; when the driver lacks IOMMU_CAP_DEFERRED_FLUSH for {@code dev} the domain
     * falls back to DMA (strict). A domain set up already is left as it is. Called when a DMA domain is attached;
     * the map calls do it themselves otherwise.
     *
     * @throws KernelException EINVAL when {@code domain} is not of type DMA or DMA_FQ
     */
    public void initDomain(IommuDomain domain, Device dev) {
        cookie(domain, dev);
    }

    /**
     * Counterpart of iommu_dma_map_page() (dma_map_page_attrs()): maps {@code size} bytes at {@code phys} for
     * {@code dev} with the prot of {@code dir} and returns the DMA address (IOVA plus the offset of {@code phys}
     * in its granule).
     *
     * @throws KernelException ENODEV when the device's RID domain is not a DMA domain; EINVAL for DMA_NONE, a size
     *                         of 0 or a negative address; ENOMEM when no IOVA range fits below the mask or
     *                         iommu_map() fails (e.g. no page for a table)
     */
    public long dmaMapPage(Device dev, long phys, long size, DmaDirection dir) {
        IommuDomain domain = dmaDomain(dev);
        checkDir(dir);
        if (size <= 0 || phys < 0) {
            throw new KernelException(Errno.EINVAL, size <= 0 ? "size" : "phys",
                    String.format("cannot map %#x bytes at %#x", size, phys));
        }
        DmaCookie cookie = cookie(domain, dev);
        long granule = cookie.iovad().granule();
        long iovaOff = phys & (granule - 1);
        long iovaSize = SgLayout.align(size + iovaOff, granule);
        long iova = allocIova(cookie, dev, iovaSize, domain, List.of(new long[] {phys - iovaOff, iovaSize}),
                dir.prot(true, false));
        List<DmaSegment> seg = List.of(new DmaSegment(iova + iovaOff, size));
        debug.add(dev, new DmaDebug.Mapping(domain, iova, iovaSize, seg, size, dir, false));
        return iova + iovaOff;
    }

    /** Counterpart of dma_map_single(): {@link #dmaMapPage} of the buffer's physical address. */
    public long dmaMapSingle(Device dev, long phys, long size, DmaDirection dir) {
        return dmaMapPage(dev, phys, size, dir);
    }

    /**
     * Counterpart of iommu_dma_unmap_page(): unmaps what {@link #dmaMapPage} returned ({@code addr}, {@code size}
     * and {@code dir} as given to and returned by it), then syncs the IOTLB and frees the IOVA (DMA) or queues the
     * IOVA for a later flush (DMA_FQ): __iommu_dma_unmap().
     *
     * @throws KernelException EINVAL, naming the argument, for what check_unmap() of CONFIG_DMA_API_DEBUG reports:
     *                         an address not mapped for {@code dev}, another size, direction or a scatterlist
     */
    public void dmaUnmapPage(Device dev, long addr, long size, DmaDirection dir) {
        DmaDebug.Mapping m = debug.checkUnmapSingle(dev, addr, size, dir);
        unmap(m, addr, size);
        debug.remove(dev, m);
    }

    /** Counterpart of dma_unmap_single(): {@link #dmaUnmapPage}. */
    public void dmaUnmapSingle(Device dev, long addr, long size, DmaDirection dir) {
        dmaUnmapPage(dev, addr, size, dir);
    }

    /**
     * Counterpart of iommu_dma_map_sg(): maps the whole list into one IOVA range (each entry from the start of its
     * first granule, entries that would cross the 4 GiB segment boundary pushed past it) and returns the DMA
     * segments (__finalise_sg(): entries that continue a granule-aligned run are merged up to the 64 KiB maximum
     * segment size). Their number is what dma_map_sg() returns.
     *
     * @throws KernelException ENODEV as {@link #dmaMapPage}; EINVAL for DMA_NONE or an empty list; ENOMEM when no
     *                         IOVA range fits or iommu_map_sg() fails
     */
    public List<DmaSegment> dmaMapSg(Device dev, List<SgEntry> sg, DmaDirection dir) {
        IommuDomain domain = dmaDomain(dev);
        checkDir(dir);
        if (sg == null || sg.isEmpty()) {
            throw new KernelException(Errno.EINVAL, "nents", "empty scatterlist");
        }
        DmaCookie cookie = cookie(domain, dev);
        SgLayout layout = SgLayout.of(sg, cookie.iovad().granule(), PCI_SEG_BOUNDARY);
        List<long[]> runs = new ArrayList<>();
        for (int i = 0; i < sg.size(); i++) {
            long phys = layout.mapPhys(sg, i);
            long[] last = runs.isEmpty() ? null : runs.get(runs.size() - 1);
            if (last != null && last[0] + last[1] == phys) {
                last[1] += layout.iovaLen()[i];
            } else {
                runs.add(new long[] {phys, layout.iovaLen()[i]});
            }
        }
        long iova = allocIova(cookie, dev, layout.total(), domain, runs, dir.prot(true, false));
        List<DmaSegment> segments = layout.finalise(sg, iova, PCI_SEG_BOUNDARY, PCI_MAX_SEG_SIZE);
        long size = sg.stream().mapToLong(SgEntry::length).sum();
        debug.add(dev, new DmaDebug.Mapping(domain, iova, layout.total(), segments, size, dir, true));
        return segments;
    }

    /**
     * Counterpart of iommu_dma_unmap_sg(): unmaps from the first segment's start to the last one's end as one
     * range, then syncs or queues as {@link #dmaUnmapPage} does.
     *
     * @throws KernelException EINVAL naming {@code sg} when the segments are not what {@link #dmaMapSg} returned
     *                         for {@code dev}, or {@code dir} for another direction
     */
    public void dmaUnmapSg(Device dev, List<DmaSegment> segments, DmaDirection dir) {
        DmaDebug.Mapping m = debug.checkUnmapSg(dev, segments, dir);
        DmaSegment first = segments.get(0);
        DmaSegment last = segments.get(segments.size() - 1);
        unmap(m, first.dmaAddress(), last.dmaAddress() + last.length() - first.dmaAddress());
        debug.remove(dev, m);
    }

    /** The live mappings of {@code dev}, as dma-debug lists them: each mapping's DMA segments. */
    public List<List<DmaSegment>> liveMappings(Device dev) {
        return debug.of(dev).stream().map(DmaDebug.Mapping::segments).toList();
    }

    /** Unmapped ranges of {@code domain} waiting in its flush queue (0 for a strict or unset domain). */
    public int flushQueueDepth(IommuDomain domain) {
        DmaCookie c = cookies.get(domain);
        return c == null ? 0 : c.fqDepth();
    }

    /** Whole-IOTLB flushes {@code domain}'s flush queue has done ({@code fq_flush_finish_cnt}). */
    public long flushQueueFlushes(IommuDomain domain) {
        DmaCookie c = cookies.get(domain);
        return c == null ? 0 : c.flushes();
    }

    DmaCookie cookieOf(IommuDomain domain) {
        return cookies.get(domain);
    }

    /** __iommu_dma_unmap() for a mapping dma-debug accepted. */
    private void unmap(DmaDebug.Mapping m, long dmaAddr, long size) {
        DmaCookie cookie = cookies.get(m.domain());
        IovaDomain iovad = cookie.iovad();
        long granule = iovad.granule();
        long iovaOff = dmaAddr & (granule - 1);
        long start = dmaAddr - iovaOff;
        long len = SgLayout.align(size + iovaOff, granule);
        IotlbGather gather = new IotlbGather();
        gather.setQueued(cookie.queued());
        IommuMap.unmapFast(m.domain(), start, len, gather);
        if (!cookie.queued()) {
            IommuMap.iotlbSync(m.domain(), gather);
            iovad.freeIovaFast(start >>> iovad.shift(), len >>> iovad.shift());
        } else {
            cookie.queueIova(start >>> iovad.shift(), len >>> iovad.shift(), gather.freelist());
        }
    }

    /**
     * iommu_dma_alloc_iova() and the iommu_map() calls of the caller, as one step that is undone whole on failure:
     * first below 4 GiB while the device's pci_32bit_workaround holds, then below its mask and the aperture.
     */
    private long allocIova(DmaCookie cookie, Device dev, long size, IommuDomain domain, List<long[]> runs,
                           int prot) {
        IovaDomain iovad = cookie.iovad();
        DevDma d = dev(dev);
        IovaDomain.Cursors before = iovad.cursors();
        boolean workaroundBefore = d.pci32bitWorkaround;
        int shift = iovad.shift();
        long pages = size >>> shift;
        long apertureEnd = domain.apertureEnd();
        long dmaLimit = Long.compareUnsigned(d.dmaMask, apertureEnd) < 0 ? d.dmaMask : apertureEnd;
        long pfn = 0;
        String notice = null;
        if (dmaLimit > DMA_BIT_MASK_32 && d.pci32bitWorkaround) {
            pfn = iovad.allocIovaFast(pages, DMA_BIT_MASK_32 >>> shift, false);
            if (pfn == 0) {
                d.pci32bitWorkaround = false;
                notice = String.format("%s: Using %d-bit DMA addresses", dev.pciName(),
                        64 - Long.numberOfLeadingZeros(dmaLimit));
            }
        }
        if (pfn == 0) {
            pfn = iovad.allocIovaFast(pages, dmaLimit >>> shift, true);
        }
        if (pfn == 0) {
            iovad.undoFailed(before);
            d.pci32bitWorkaround = workaroundBefore;
            throw new KernelException(Errno.ENOMEM, "size", String.format(
                    "no IOVA range of %#x bytes below %#x in the DMA domain of %s", size, dmaLimit, dev));
        }
        long iova = pfn << shift;
        long done = 0;
        try {
            for (long[] run : runs) {
                IommuMap.map(domain, iova + done, run[0], run[1], prot);
                done += run[1];
            }
        } catch (KernelException e) {
            if (done > 0) {
                IommuMap.unmap(domain, iova, done);
            }
            iovad.undo(pfn, pages, iovad.lastFromCache(), before);
            d.pci32bitWorkaround = workaroundBefore;
            throw new KernelException(Errno.ENOMEM, "phys", "iommu_map failed: " + e.getMessage());
        }
        if (notice != null) {
            log.info("%s", notice);
        }
        return iova;
    }

    private DmaCookie cookie(IommuDomain domain, Device dev) {
        DmaCookie c = cookies.get(domain);
        if (c != null) {
            return c;
        }
        if (domain.type() != DomainType.DMA && domain.type() != DomainType.DMA_FQ) {
            throw new KernelException(Errno.EINVAL, "domain", domain.type() + " is not a DMA domain");
        }
        long granule = Long.lowestOneBit(domain.pgsizeBitmap());
        IovaDomain iovad = new IovaDomain(granule, 1);
        boolean fq = domain.type() == DomainType.DMA_FQ;
        if (fq && !dev.ops().capable(dev, IommuCap.DEFERRED_FLUSH)) {
            domain.fallBackToStrict();
            fq = false;
        }
        for (IommuResvRegion r : dev.ops().getResvRegions(dev)) {
            if (r.type() != IommuResvRegion.Type.SW_MSI) {
                iovad.reserveIova(r.start() / granule, r.last() / granule);
            }
        }
        c = new DmaCookie(domain, iovad, loop, options, fq);
        cookies.put(domain, c);
        return c;
    }

    private IommuDomain dmaDomain(Device dev) {
        IommuDomain domain = dev.group() == null ? null : core.getDomainForDev(dev);
        if (domain == null || domain.type() != DomainType.DMA && domain.type() != DomainType.DMA_FQ) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " has no DMA domain at its RID ("
                    + (domain == null ? "none" : domain.type()) + ")");
        }
        return domain;
    }

    private static void checkDir(DmaDirection dir) {
        if (dir == null || dir == DmaDirection.DMA_NONE) {
            throw new KernelException(Errno.EINVAL, "dir", "not a valid DMA direction: " + dir);
        }
    }

    private DevDma dev(Device dev) {
        return devices.computeIfAbsent(dev, k -> new DevDma());
    }
}
