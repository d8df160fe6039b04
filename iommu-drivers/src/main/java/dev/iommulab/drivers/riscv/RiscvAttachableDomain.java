package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.drivers.AttachableDomain;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import java.util.function.Function;

/**
 * The domains a device context or process context can be written from — blocking, identity, paging — and the attach
 * ops they share through {@link RiscvDomains} ({@link AttachableDomain}): each kind says only what its context holds
 * ({@link #context}) and which bonds it keeps.
 */
abstract sealed class RiscvAttachableDomain extends AttachableDomain<RiscvAttachableDomain> implements RiscvDomain
        permits RiscvBlockedDomain, RiscvIdentityDomain, RiscvPagingDomain {

    final RiscvDomains domains;
    /**
     * What this domain's contexts hold: {@code fsc} (iosatp: mode and root, or Bare) and {@code ta} (V and the
     * PSCID), in a process context or, for a function without PASID, in its device context.
     */
    final RiscvProcessContext context;

    RiscvAttachableDomain(RiscvDomains domains, Function<IommuDomainOps, IommuDomain> alloc,
                          RiscvProcessContext context) {
        super(domains, alloc);
        this.domains = domains;
        this.context = context;
    }

    /** The blocking domain's context in place of this one; see {@link RiscvDomains#block}. */
    @Override
    public void removeDevPasid(RiscvBlockedDomain blocked, RiscvDeviceInfo info, int pasid) {
        domains.block(blocked, info, pasid, this);
    }

    @Override
    public String toString() {
        return domain().toString();
    }
}
