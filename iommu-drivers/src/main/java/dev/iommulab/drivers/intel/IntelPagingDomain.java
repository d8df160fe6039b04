package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import java.util.ArrayList;
import java.util.List;

/**
 * A paging domain of the unit ({@code struct dmar_domain} with {@code intel_fs_paging_domain_ops} or
 * {@code intel_ss_paging_domain_ops}): its io-pgtable as the first stage (PGTT 001b) or, for a nest parent, the second
 * (PGTT 010b), its domain ID, and its cache tags ({@code dmar_domain->cache_tags}) — one per attachment, and one per
 * attachment of a nested domain on it — which its iotlb_sync and flush_iotlb_all flush.
 */
final class IntelPagingDomain extends IntelAttachableDomain {

    private final int did;
    private final boolean firstStage;
    private final List<CacheTags.Tag> tags = new ArrayList<>();

    IntelPagingDomain(IommuOps owner, IntelDomains domains, IoPgtable pgtable, int did) {
        super(domains, ops -> IommuDomain.paging(owner, ops, pgtable));
        this.did = did;
        this.firstStage = pgtable.format() == IoPgtableFormat.VTD_FIRST_STAGE;
    }

    @Override
    public int did() {
        return did;
    }

    /** The io-pgtable is a first stage (else a second stage, a possible nest parent). */
    boolean firstStage() {
        return firstStage;
    }

    /** domain_setup_first_level() or domain_setup_second_level(). */
    @Override
    void setupEntry(PasidTables tables, long pasidDir, int pasid) {
        if (firstStage) {
            tables.setupFirstLevel(pasidDir, pasid, domain().pgtable().root(), did);
        } else {
            tables.setupSecondLevel(pasidDir, pasid, domain().pgtable().root(), did);
        }
    }

    @Override
    public void assignTag(DeviceInfo info, int pasid) {
        addTag(new CacheTags.Tag(info, pasid, did, firstStage));
    }

    @Override
    public void unassignTag(DeviceInfo info, int pasid) {
        removeTag(info, pasid);
    }

    /** A cache tag of this domain's page table, its own or a nested domain's ({@code cache_tag_assign_parent()}). */
    void addTag(CacheTags.Tag tag) {
        tags.add(tag);
    }

    void removeTag(DeviceInfo info, int pasid) {
        tags.removeIf(t -> t.info() == info && t.pasid() == pasid);
    }

    /** Counterpart of intel_iommu_tlb_sync(): cache_tag_flush_range() over the gathered range. */
    @Override
    public void iotlbSync(IommuDomain d, IotlbGather gather) {
        domains.cacheTags().flushRange(tags, gather.start(), gather.end(), false);
    }

    /** Counterpart of intel_flush_iotlb_all(): cache_tag_flush_all(). */
    @Override
    public void flushIotlbAll(IommuDomain d) {
        domains.cacheTags().flushAll(tags, false);
    }

    /** Counterpart of intel_iommu_domain_free(): nothing to give back here but its place among the nest parents. */
    @Override
    public void free(IommuDomain d) {
        domains.forget(this);
    }
}
