package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;

/**
 * A NESTED domain of the unit (intel/nested.c, {@code intel_nested_domain_ops}): the guest's first-stage table
 * ({@code struct iommu_hwpt_vtd_s1}) translated by the second stage of its parent paging domain ({@code s2_domain}),
 * with a domain ID of its own. Its attachments are cache tags of the parent, whose flushes reach them.
 */
final class IntelNestedDomain extends IntelAttachableDomain {

    private final IntelPagingDomain parent;
    private final long s1Table;
    private final int did;

    IntelNestedDomain(IommuOps owner, IntelDomains domains, IntelPagingDomain parent, long s1Table, int did) {
        super(domains, ops -> IommuDomain.nested(owner, ops, parent.domain()));
        this.parent = parent;
        this.s1Table = s1Table;
        this.did = did;
    }

    @Override
    public int did() {
        return did;
    }

    /** intel_pasid_setup_nested(): PGTT 011b, FLPTPTR the guest table, SLPTPTR the parent's root. */
    @Override
    void setupEntry(PasidTables tables, long pasidDir, int pasid) {
        tables.setupNested(pasidDir, pasid, s1Table, parent.domain().pgtable().root(), did);
    }

    @Override
    public void assignTag(DeviceInfo info, int pasid) {
        parent.addTag(new CacheTags.Tag(info, pasid, did, false));
    }

    @Override
    public void unassignTag(DeviceInfo info, int pasid) {
        parent.removeTag(info, pasid);
    }
}
