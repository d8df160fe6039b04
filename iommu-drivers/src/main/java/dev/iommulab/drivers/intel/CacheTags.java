package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.hw.vtd.QiDescriptor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The flushes of a paging domain's cache tags (intel/cache.c): {@code cache_tag_flush_range()} behind
 * {@code intel_iommu_tlb_sync()} and {@code cache_tag_flush_all()} behind {@code intel_flush_iotlb_all()}, batched
 * into one queued-invalidation submission ({@code qi_batch}) with its wait.
 */
final class CacheTags {

    private final IntelIommu iommu;
    private final IntelDomains domains;

    CacheTags(IntelIommu iommu, IntelDomains domains) {
        this.iommu = iommu;
        this.domains = domains;
    }

    /**
     * cache_tag_flush_range() for {@code [gather.start, gather.end]}: the range becomes 2^mask pages at an
     * aligned address ({@code calculate_psi_aligned_address()}); per tag a page-selective PASID-IOTLB
     * invalidation (first stage) or IOTLB invalidation of the DID (second stage, once per DID; domain-selective
     * when the mask passes CAP.MAMV), then for an ATS function the device-TLB of the RID or PASID.
     */
    void flushRange(IommuDomain domain, IotlbGather gather) {
        List<IntelDomains.Tag> tags = domains.tagsOf(domain);
        if (tags.isEmpty()) {
            return;
        }
        long start = gather.start();
        long end = gather.end();
        long pages = ((end | 0xfff) - (start & ~0xfffL) + 1) >>> 12;
        int mask = 64 - Long.numberOfLeadingZeros(pages - 1);
        long bitmask = (1L << mask) - 1;
        long pfn = start >>> 12;
        if ((bitmask & pfn) != 0) {
            long endPfn = pfn + pages - 1;
            long shared = ~(pfn ^ endPfn) & ~bitmask;
            mask = shared != 0 ? Long.numberOfTrailingZeros(shared) : IntelDomains.MAX_AGAW_PFN_WIDTH;
        }
        long addr = mask >= IntelDomains.MAX_AGAW_PFN_WIDTH ? 0 : start & -(4096L << mask);
        List<QiDescriptor> batch = new ArrayList<>();
        Set<Long> iotlbTags = new HashSet<>();
        for (IntelDomains.Tag t : tags) {
            if (iotlbTags.add(iotlbTag(t))) {
                batch.add(t.firstStage() ? QiDescriptor.pasidIotlbPages(t.did(), t.pasid(), addr, Math.min(mask, 63))
                        : mask > IntelDomains.MAX_AMASK ? QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, t.did(), 0, 0, false)
                        : QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, t.did(), addr, mask, false));
            }
            addDeviceTlb(batch, t, addr, mask);
        }
        boolean done = iommu.qi().submitSync(batch.toArray(QiDescriptor[]::new));
        iommu.trace("cache_tag_flush_range", "DID %d %#x..%#x: %d page(s) at %#x, %d descriptor(s)%s",
                tags.get(0).did(), start, end, 1L << Math.min(mask, 62), addr, batch.size(),
                done ? "" : ", waiting for the device-TLB");
    }

    /** The IOTLB tag of an attachment: (DID, PASID) for a first stage, the DID for a second stage. */
    private static long iotlbTag(IntelDomains.Tag t) {
        return t.firstStage() ? (long) t.did() << 20 | t.pasid() : (long) t.did() << 20 | 0xfffff;
    }

    /** cache_tag_flush_devtlb_psi(): the device-TLB of an ATS function, for the RID or the PASID. */
    private static void addDeviceTlb(List<QiDescriptor> batch, IntelDomains.Tag t, long addr, int mask) {
        if (!t.info().pci.atsEnabled()) {
            return;
        }
        batch.add(mask >= IntelDomains.MAX_AGAW_PFN_WIDTH ? IntelDomains.deviceTlbAll(t.info().rid(), t.pasid())
                : t.pasid() == IommuCore.IOMMU_NO_PASID ? QiDescriptor.deviceTlb(t.info().rid(), addr, mask)
                : QiDescriptor.pasidDeviceTlb(t.info().rid(), t.pasid(), addr, mask));
    }

    /** cache_tag_flush_all(): everything of each tag (all of the PASID, or the DID, and the whole device-TLB). */
    void flushAll(IommuDomain domain) {
        List<QiDescriptor> batch = new ArrayList<>();
        Set<Long> iotlbTags = new HashSet<>();
        for (IntelDomains.Tag t : domains.tagsOf(domain)) {
            if (iotlbTags.add(iotlbTag(t))) {
                batch.add(t.firstStage() ? QiDescriptor.pasidIotlbAll(t.did(), t.pasid())
                        : QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, t.did(), 0, 0, false));
            }
            if (t.info().pci.atsEnabled()) {
                batch.add(IntelDomains.deviceTlbAll(t.info().rid(), t.pasid()));
            }
        }
        if (!batch.isEmpty()) {
            iommu.qi().submitSync(batch.toArray(QiDescriptor[]::new));
        }
    }
}
