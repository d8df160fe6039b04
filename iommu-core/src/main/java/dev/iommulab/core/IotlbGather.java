package dev.iommulab.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code struct iommu_iotlb_gather} (include/linux/iommu.h): the IOVA range an unmap removed, at which page
 * size, and the table pages it unlinked, waiting for one IOTLB sync ({@link IommuMap#iotlbSync}) that
 * invalidates the range at once instead of page by page. Until that sync the hardware may still use cached
 * translations of the range.
 */
public final class IotlbGather {

    private long start;
    private long end;
    private long pgsize;
    private final List<Long> freelist = new ArrayList<>();
    private boolean queued;

    /** An empty gather, as after {@link #init}. */
    public IotlbGather() {
        init();
    }

    /** Counterpart of iommu_iotlb_gather_init(): nothing gathered, no page size, nothing to free. */
    void init() {
        start = Long.MAX_VALUE;
        end = 0;
        pgsize = 0;
        queued = false;
        freelist.clear();
    }

    /** First gathered IOVA ({@code ULONG_MAX}, here {@link Long#MAX_VALUE}, when nothing is gathered). */
    public long start() {
        return start;
    }

    /** Last gathered IOVA, inclusive (0 when nothing is gathered). */
    public long end() {
        return end;
    }

    /** The page size of the gathered leaves, 0 when nothing is gathered. */
    public long pgsize() {
        return pgsize;
    }

    /**
     * {@code gather->queued}: the caller (dma-iommu with a flush queue) invalidates later with a whole flush, so
     * the unmap gathers no range (io-pgtable and the VT-d driver test iommu_iotlb_gather_queued() before adding a
     * page) but still collects the unlinked table pages.
     */
    public boolean queued() {
        return queued;
    }

    /** Sets {@link #queued()}, as __iommu_dma_unmap() does from {@code cookie->fq_domain} before unmapping. */
    public void setQueued(boolean queued) {
        this.queued = queued;
    }

    public boolean isEmpty() {
        return end == 0 && start == Long.MAX_VALUE;
    }

    /** Table pages unlinked by the unmap, freed after the sync ({@code gather->freelist}). */
    public List<Long> freelist() {
        return Collections.unmodifiableList(freelist);
    }

    void addFreeTable(long frame) {
        freelist.add(frame);
    }

    /** Counterpart of iommu_iotlb_gather_add_range(). */
    void addRange(long iova, long size) {
        long last = iova + size - 1;
        if (start > iova) {
            start = iova;
        }
        if (end < last) {
            end = last;
        }
    }

    /** Counterpart of iommu_iotlb_gather_is_disjoint(). */
    boolean isDisjoint(long iova, long size) {
        long last = iova + size - 1;
        return end != 0 && (last + 1 < start || iova > end + 1);
    }

    /**
     * Counterpart of iommu_iotlb_gather_add_page(): a leaf disjoint from the gathered range, or of another page
     * size, first syncs what is gathered; then the leaf is added.
     */
    void addPage(IommuDomain domain, long iova, long size) {
        if (pgsize != 0 && pgsize != size || isDisjoint(iova, size)) {
            IommuMap.iotlbSync(domain, this);
        }
        pgsize = size;
        addRange(iova, size);
    }

    @Override
    public String toString() {
        return isEmpty() ? (queued ? "gather[queued]" : "gather[]") : String.format("gather[%#x..%#x pgsize %#x, %d table(s)]", start, end, pgsize,
                freelist.size());
    }
}
