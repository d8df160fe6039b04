package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.drivers.AttachableDomain;
import java.util.function.Function;

/**
 * The domains a PASID entry can point at — identity, paging, nested — and the attach ops they share: attach_dev at
 * the RID_PASID entry and set_dev_pasid at a PASID, with or without an old domain, all through
 * {@link IntelDomains#attachDev} / {@link IntelDomains#setDevPasid} ({@link AttachableDomain}); each kind says only
 * what its entry holds ({@link #setupEntry}) and which cache tags it keeps.
 */
abstract sealed class IntelAttachableDomain extends AttachableDomain<IntelAttachableDomain> implements IntelDomain
        permits IntelIdentityDomain, IntelPagingDomain, IntelNestedDomain {

    final IntelDomains domains;

    IntelAttachableDomain(IntelDomains domains, Function<IommuDomainOps, IommuDomain> alloc) {
        super(domains, alloc);
        this.domains = domains;
    }

    /** The PASID entry of this domain at {@code pasid} of the PASID directory {@code pasidDir}. */
    abstract void setupEntry(PasidTables tables, long pasidDir, int pasid);

    @Override
    public String toString() {
        return domain() + " DID " + did();
    }
}
