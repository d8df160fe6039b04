package dev.iommulab.vfio;

import dev.iommulab.core.IommuDomain;

/**
 * A hardware page table ({@code struct iommufd_hw_pagetable}): an iommu domain the context owns. A paging HWPT
 * ({@code iommufd_hwpt_paging}) mirrors its IOAS and may be a nest parent or an automatic domain; a nested one
 * ({@code iommufd_hwpt_nested}) sits on a nest-parent HWPT. With a fault object the domain is fault-capable: its
 * {@code iopf_handler} queues groups on that object. Reference: drivers/iommu/iommufd/hw_pagetable.c.
 */
final class Hwpt extends IommufdObject {

    final IommuDomain domain;
    /** The IOAS of a paging HWPT, else null. */
    final Ioas ioas;
    /** The nest parent of a nested HWPT, else null. */
    final Hwpt parent;
    final boolean nestParent;
    /** {@code auto_domain}: made by attaching to an IOAS, destroyed with its last attachment. */
    final boolean autoDomain;
    /** {@code pasid_compat}: allocated with IOMMU_HWPT_ALLOC_PASID. */
    final boolean pasidCompat;
    /** {@code hwpt->fault}, or null. */
    FaultObject fault;

    Hwpt(IommuDomain domain, Ioas ioas, Hwpt parent, boolean nestParent, boolean autoDomain, boolean pasidCompat) {
        super(parent == null ? "HWPT_PAGING" : "HWPT_NESTED");
        this.domain = domain;
        this.ioas = ioas;
        this.parent = parent;
        this.nestParent = nestParent;
        this.autoDomain = autoDomain;
        this.pasidCompat = pasidCompat;
    }

    /**
     * iommufd_hwpt_paging_destroy() / iommufd_hwpt_nested_destroy(): out of its IOAS, domain freed, references on
     * the IOAS or parent and on the fault object dropped.
     */
    @Override
    void destroy() {
        if (ioas != null) {
            ioas.removeDomain(domain);
        }
        domain.ops().free(domain);
        if (fault != null) {
            fault.put();
        }
        (ioas != null ? (IommufdObject) ioas : parent).put();
    }
}
