package dev.iommulab.drivers.riscv;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.hw.riscv.RiscvProcessContext;

/** {@code riscv_iommu_identity_domain}: {@code fsc} Bare, valid. */
final class RiscvIdentityDomain extends RiscvAttachableDomain {

    RiscvIdentityDomain(IommuOps owner, RiscvDomains domains) {
        super(domains, ops -> new IommuDomain(DomainType.IDENTITY, owner, ops, null),
                new RiscvProcessContext(RiscvProcessContext.TA_V, 0));
    }
}
