package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuCore;
import dev.iommulab.hw.vtd.QiDescriptor;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The flushes of a domain's cache tags (intel/cache.c): {@code cache_tag_flush_range()} behind
 * {@code intel_iommu_tlb_sync()} and the SVA notifier, and {@code cache_tag_flush_all()} behind
 * {@code intel_flush_iotlb_all()}, batched into one queued-invalidation submission ({@code qi_batch}) with its wait.
 * The tags themselves belong to the domains ({@link IntelPagingDomain}, {@link IntelSvaDomain}).
 */
final class CacheTags {

    /** One attachment of a domain ({@code struct cache_tag}): the device, the PASID and the DID it uses. */
    record Tag(DeviceInfo info, int pasid, int did, boolean firstStage) {
    }

    private final IntelUnit iommu;

    CacheTags(IntelUnit iommu) {
        this.iommu = iommu;
    }

    /**
     * cache_tag_flush_range() over {@code tags} for {@code [start, end]} (end inclusive): the range becomes 2^mask
     * pages at an aligned address ({@code calculate_psi_aligned_address()}); per tag a page-selective PASID-IOTLB
     * invalidation (first stage) or IOTLB invalidation of the DID (second stage, once per DID; domain-selective
     * when the mask passes CAP.MAMV), then for an ATS function the device-TLB of the RID or PASID. With
     * {@code wait} the caller sleeps until the unit wrote the wait's status — every descriptor, device-TLB ones
     * included, completed — as qi_submit_sync() spins in the kernel; without it the DMA path's behaviour of
     * {@link QueuedInvalidation#submitSync}.
     *
     * @return true when the flush completed (at once, or after the wait)
     */
    boolean flushRange(List<Tag> tags, long start, long end, boolean wait) {
        if (tags.isEmpty()) {
            return true;
        }
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
        for (Tag t : tags) {
            if (iotlbTags.add(iotlbTag(t))) {
                batch.add(t.firstStage() ? QiDescriptor.pasidIotlbPages(t.did(), t.pasid(), addr, Math.min(mask, 63))
                        : mask > IntelDomains.MAX_AMASK ? QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, t.did(), 0, 0, false)
                        : QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, t.did(), addr, mask, false));
            }
            addDeviceTlb(batch, t, addr, mask);
        }
        boolean done = submit(batch, wait);
        iommu.trace("cache_tag_flush_range", "DID %d %#x..%#x: %d page(s) at %#x, %d descriptor(s)%s",
                tags.get(0).did(), start, end, 1L << Math.min(mask, 62), addr, batch.size(),
                done ? "" : wait ? ", the device-TLB invalidation never completed" : ", waiting for the device-TLB");
        return done;
    }

    private boolean submit(List<QiDescriptor> batch, boolean wait) {
        QiDescriptor[] descriptors = batch.toArray(QiDescriptor[]::new);
        return wait ? iommu.qi().submitSyncAndWait(iommu.loop(), descriptors) : iommu.qi().submitSync(descriptors);
    }

    /** The IOTLB tag of an attachment: (DID, PASID) for a first stage, the DID for a second stage. */
    private static long iotlbTag(Tag t) {
        return t.firstStage() ? (long) t.did() << 20 | t.pasid() : (long) t.did() << 20 | 0xfffff;
    }

    /** cache_tag_flush_devtlb_psi(): the device-TLB of an ATS function, for the RID or the PASID. */
    private static void addDeviceTlb(List<QiDescriptor> batch, Tag t, long addr, int mask) {
        if (!t.info().pci().atsEnabled()) {
            return;
        }
        batch.add(mask >= IntelDomains.MAX_AGAW_PFN_WIDTH ? IntelDomains.deviceTlbAll(t.info().rid(), t.pasid())
                : t.pasid() == IommuCore.IOMMU_NO_PASID ? QiDescriptor.deviceTlb(t.info().rid(), addr, mask)
                : QiDescriptor.pasidDeviceTlb(t.info().rid(), t.pasid(), addr, mask));
    }

    /**
     * cache_tag_flush_all() over {@code tags}: everything of each tag (all of the PASID, or the DID, and the whole
     * device-TLB); {@code wait} as for {@link #flushRange(List, long, long, boolean)}.
     */
    boolean flushAll(List<Tag> tags, boolean wait) {
        List<QiDescriptor> batch = new ArrayList<>();
        Set<Long> iotlbTags = new HashSet<>();
        for (Tag t : tags) {
            if (iotlbTags.add(iotlbTag(t))) {
                batch.add(t.firstStage() ? QiDescriptor.pasidIotlbAll(t.did(), t.pasid())
                        : QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, t.did(), 0, 0, false));
            }
            if (t.info().pci().atsEnabled()) {
                batch.add(IntelDomains.deviceTlbAll(t.info().rid(), t.pasid()));
            }
        }
        return batch.isEmpty() || submit(batch, wait);
    }
}
