package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.hw.riscv.RiscvProcessContext;

/**
 * {@code riscv_iommu_blocking_domain}: the context is not valid ("translation requests will fault w/ #258"). At the
 * RID it replaces what was attached ({@link RiscvDomains#block}); its set_dev_pasid with {@code old} is how the core
 * takes a PASID down (not in mainline: there is no PASID support there), in the way of the domain that was attached.
 */
final class RiscvBlockedDomain extends RiscvAttachableDomain {

    /** The context is not valid: {@code fsc} and {@code ta} 0. */
    RiscvBlockedDomain(IommuOps owner, RiscvDomains domains) {
        super(domains, ops -> new IommuDomain(DomainType.BLOCKED, owner, ops, null), new RiscvProcessContext(0, 0));
    }

    /**
     * Counterpart of riscv_iommu_attach_blocking_domain(): the IOPF reference of what the RID had first (beyond
     * mainline), then the context. A device with nothing attached since probe is left as probe wrote it.
     */
    @Override
    public void attachDev(IommuDomain blocked, Device dev) {
        RiscvDeviceInfo info = domains.unit().info(dev);
        if (info.ridDomain() == null) {
            return; // nothing attached since probe: the context is as probe left it, not translating
        }
        domains.block(this, info, IommuCore.IOMMU_NO_PASID, info.ridDomain());
        domains.traceAttach(domain(), info);
    }

    /**
     * The blocked domain's set_dev_pasid with {@code old} (lab extension): the PASID is taken down in the way of the
     * domain that was there ({@link RiscvDomain#removeDevPasid}). Never fails.
     */
    @Override
    public void setDevPasid(IommuDomain blocked, Device dev, int pasid, IommuDomain old) {
        RiscvDeviceInfo info = domains.unit().info(dev);
        info.attached(pasid, old).removeDevPasid(this, info, pasid);
    }
}
