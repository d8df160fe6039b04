package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;

/**
 * A VT-d domain, {@code struct dmar_domain}: the ops of one {@link IommuDomain} together with what the driver keeps
 * for it, so the driver never casts a domain's private data. There is one kind per domain type, each with its own
 * ops, as intel/iommu.c has {@code blocking_domain}, {@code identity_domain}, {@code intel_fs_paging_domain_ops} /
 * {@code intel_ss_paging_domain_ops}, {@code intel_nested_domain_ops} and {@code intel_svm_domain_ops}.
 * The driver finds the kind of what a device has attached from its own records ({@link DeviceInfo}), never from the
 * domain's type.
 */
sealed interface IntelDomain extends IommuDomainOps
        permits IntelBlockedDomain, IntelAttachableDomain, IntelSvaDomain {

    /** The core's view of this domain ({@code &dmar_domain->domain}). */
    IommuDomain domain();

    /** The domain ID its PASID entries carry ({@code domain_id_iommu()}); FLPT_DEFAULT_DID for pass-through. */
    int did();

    /**
     * {@code cache_tag_assign_domain()} / {@code domain_add_dev_pasid()}: {@code pasid} of {@code info} (the RID for
     * IOMMU_NO_PASID) now translates through this domain, so its flushes must reach it. Nothing for a domain without
     * cache tags.
     */
    default void assignTag(DeviceInfo info, int pasid) {
    }

    /** {@code cache_tag_unassign_domain()} / {@code domain_remove_dev_pasid()}: the reverse of {@link #assignTag}. */
    default void unassignTag(DeviceInfo info, int pasid) {
    }
}
