package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;

/**
 * The domains a PASID entry can point at — identity, paging, nested — and the attach ops they share: attach_dev at
 * the RID_PASID entry and set_dev_pasid at a PASID, with or without an old domain, all through
 * {@link IntelDomains#attachDev} / {@link IntelDomains#setDevPasid}; each kind says only what its entry holds
 * ({@link #setupEntry}) and which cache tags it keeps.
 */
abstract sealed class IntelAttachableDomain implements IntelDomain
        permits IntelIdentityDomain, IntelPagingDomain, IntelNestedDomain {

    final IntelDomains domains;

    IntelAttachableDomain(IntelDomains domains) {
        this.domains = domains;
    }

    /** The PASID entry of this domain at {@code pasid} of the PASID directory {@code pasidDir}. */
    abstract void setupEntry(PasidTables tables, long pasidDir, int pasid);

    /**
     * Counterpart of intel_iommu_attach_device() (paging), identity_domain_attach_dev() and
     * intel_nested_attach_dev(): the RID_PASID entry, IOPF for a fault-capable domain (ENODEV without PRI).
     */
    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        domains.attachDev(this, domains.unit().info(dev));
    }

    /**
     * Counterpart of intel_iommu_set_dev_pasid(), identity_domain_set_dev_pasid() and intel_nested_set_dev_pasid()
     * where nothing was attached.
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        domains.setDevPasid(this, dev, pasid, null);
    }

    /**
     * The same with {@code old} (iommu_replace_device_pasid()): the new entry is written over the old one, whose
     * caches are flushed; IOPF of a fault-capable new domain is enabled before the old one's is dropped. Replacing
     * an SVA attachment is not modelled (EOPNOTSUPP).
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        domains.setDevPasid(this, dev, pasid, old);
    }

    @Override
    public String toString() {
        return domain() + " DID " + did();
    }
}
