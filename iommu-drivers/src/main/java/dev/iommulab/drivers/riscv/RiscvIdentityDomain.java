package dev.iommulab.drivers.riscv;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.hw.riscv.RiscvProcessContext;

/** {@code riscv_iommu_identity_domain}: {@code fsc} Bare, valid. */
final class RiscvIdentityDomain extends RiscvAttachableDomain {

    private final IommuDomain domain;

    RiscvIdentityDomain(IommuOps owner, RiscvDomains domains) {
        super(domains);
        this.domain = new IommuDomain(DomainType.IDENTITY, owner, this, null);
    }

    @Override
    public IommuDomain domain() {
        return domain;
    }

    @Override
    long fsc() {
        return 0;
    }

    @Override
    long ta() {
        return RiscvProcessContext.TA_V;
    }
}
