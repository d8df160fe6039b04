package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;

/**
 * The domains a device context or process context can be written from — blocking, identity, paging — and the attach
 * ops they share through {@link RiscvDomains}: each kind says only what its context holds ({@link #fsc()},
 * {@link #ta()}) and which bonds it keeps.
 */
abstract sealed class RiscvAttachableDomain implements RiscvDomain
        permits RiscvBlockedDomain, RiscvIdentityDomain, RiscvPagingDomain {

    final RiscvDomains domains;

    RiscvAttachableDomain(RiscvDomains domains) {
        this.domains = domains;
    }

    /** The {@code fsc} (iosatp) of the context: mode and root, or Bare. */
    abstract long fsc();

    /** The {@code ta} of the context: V and the PSCID. */
    abstract long ta();

    /**
     * Counterpart of riscv_iommu_attach_paging_domain() and riscv_iommu_attach_identity_domain(); beyond mainline, a
     * fault-capable paging domain enables IOPF, as on VT-d; see {@link RiscvDomains}.
     */
    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        domains.attachDev(this, domains.unit().info(dev));
    }

    /**
     * {@code set_dev_pasid} (not in mainline): the process context of the PASID, IOPF for a fault-capable domain.
     *
     * @throws dev.iommulab.core.kernel.KernelException EINVAL when the device has no PDT or {@code pasid} is beyond
     *         it, ENODEV for a fault-capable domain on a function without PRI, ENOMEM when a PDT level cannot be
     *         allocated (IOPF is then disabled again)
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        domains.setDevPasid(this, dev, pasid, null);
    }

    /**
     * Replace at a PASID (not in mainline): the new domain's IOPF enabled before the old one's is dropped;
     * replacing an SVA attachment is not modelled (EOPNOTSUPP).
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        domains.setDevPasid(this, dev, pasid, old);
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
