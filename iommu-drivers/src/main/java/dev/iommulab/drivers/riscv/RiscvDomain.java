package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;

/**
 * A RISC-V IOMMU domain ({@code struct riscv_iommu_domain}): the ops of one {@link IommuDomain} together with what the
 * driver keeps for it, one kind per domain type — blocking, identity and paging as in drivers/iommu/riscv/iommu.c
 * ({@code riscv_iommu_blocking_domain}, {@code riscv_iommu_identity_domain}, {@code riscv_iommu_paging_domain_ops}),
 * and the lab's SVA domain. The driver finds the kind of what a device has attached from its own records
 * ({@link RiscvDeviceInfo}), never from the domain's type or a cast of private data.
 */
sealed interface RiscvDomain extends IommuDomainOps permits RiscvAttachableDomain, RiscvSvaDomain {

    /** The core's view of this domain ({@code &riscv_domain->domain}). */
    IommuDomain domain();

    /**
     * {@code riscv_iommu_bond_link()}: {@code pasid} of {@code info} ({@code -1} for the device context itself) now
     * translates through this domain. Nothing for a domain without bonds.
     */
    default void bond(RiscvDeviceInfo info, int pasid) {
    }

    /** {@code riscv_iommu_bond_unlink()}: the reverse of {@link #bond}. */
    default void unbond(RiscvDeviceInfo info, int pasid) {
    }

    /**
     * What the blocked domain's set_dev_pasid does at {@code pasid} of {@code info} in place of this domain (lab
     * extension: mainline has no PASID support); {@code blocked} is the unit's blocking domain. Never fails.
     */
    void removeDevPasid(RiscvBlockedDomain blocked, RiscvDeviceInfo info, int pasid);
}
