package dev.iommulab.drivers.intel;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;

/**
 * The unit's static IDENTITY domain ({@code identity_domain} in intel/iommu.c): a pass-through PASID entry (PGTT 100b)
 * with {@code FLPT_DEFAULT_DID}; it keeps no cache tags.
 */
final class IntelIdentityDomain extends IntelAttachableDomain {

    IntelIdentityDomain(IommuOps owner, IntelDomains domains) {
        super(domains, ops -> new IommuDomain(DomainType.IDENTITY, owner, ops, null));
    }

    @Override
    public int did() {
        return IntelDomains.FLPT_DEFAULT_DID;
    }

    /** intel_pasid_setup_pass_through(). */
    @Override
    void setupEntry(PasidTables tables, long pasidDir, int pasid) {
        tables.setupPassThrough(pasidDir, pasid, IntelDomains.FLPT_DEFAULT_DID);
    }
}
