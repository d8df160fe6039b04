package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IoPgtable;

/**
 * {@code struct iommu_domain_ops}: what the core asks of one domain, carried by the domain itself
 * ({@link IommuDomain#ops()}, {@code domain->ops}). The driver picks the ops when it allocates the domain, one kind
 * per domain type (blocked, identity, paging, nested, SVA), so no op has to ask which type of domain it was given;
 * a driver's ops object usually also holds what the driver keeps for that domain (its domain ID, its cache tags),
 * the counterpart of the driver's {@code container_of(domain, struct dmar_domain, domain)}. Mapping is not here: the
 * core maps through the paging domain's io-pgtable ({@link IommuMap}).
 *
 * <p>Every op runs on the simulation thread in kernel process context; the attach ops may sleep (a PASID drain
 * does), none may be called from an interrupt. Per-device operations stay in {@link IommuOps}. An op this
 * interface leaves at its default is one the driver does not implement for that type of domain.
 */
public interface IommuDomainOps {

    /**
     * {@code attach_dev}: make {@code domain} translate requests of {@code dev} without PASID (at the RID), replacing
     * whatever did. Called by the core whenever the group's domain changes (default domain at probe,
     * {@link IommuCore#attachDevice}, detach to the blocking or default domain, {@link IommuCore#groupReplaceDomain},
     * DMA ownership), never for a device of another driver. On failure what was attached must stay attached, with
     * nothing half programmed. Counterpart of {@code domain->ops->attach_dev()} as __iommu_attach_device() calls it.
     * The default does nothing.
     */
    default void attachDev(IommuDomain domain, Device dev) {
    }

    /**
     * {@code set_dev_pasid} with {@code old == NULL}: make {@code domain} translate requests of {@code dev} tagged
     * with {@code pasid}, where nothing was attached. Called by {@link IommuCore#attachDevicePasid} after its checks,
     * before the core publishes the attachment; enables IOPF for the device when the domain is fault-capable. A
     * failure must leave no entry and no IOPF reference behind. Counterpart of {@code domain->ops->set_dev_pasid()}
     * as __iommu_set_group_pasid() calls it. The default refuses with ENODEV, as the lab's drivers refuse a domain
     * type they cannot attach at a PASID.
     */
    default void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        throw new KernelException(Errno.ENODEV, "domain", domain.type() + " domains have no set_dev_pasid here");
    }

    /**
     * {@code set_dev_pasid} with {@code old}: replace what translates {@code pasid} of {@code dev} (the domain
     * {@code old}, never null here) with {@code domain}, keeping {@code old} in place when it fails. Called by
     * {@link IommuCore#replaceDevicePasid} for a different domain, and by {@link IommuCore#detachDevicePasid} on the
     * driver's blocked domain ({@link IommuOps#blockedDomain()}): then {@code domain} is the blocked domain and the
     * op tears the PASID down — drops the IOPF reference {@code old} held, clears the entry, flushes the caches and
     * drains the page requests — and must not fail (VT-d's is blocking_domain_set_dev_pasid(), which
     * iommu_remove_dev_pasid() calls; the kernel version the lab follows has no {@code remove_dev_pasid} op any more).
     * Counterpart of {@code domain->ops->set_dev_pasid()} with {@code old}. The default refuses with EOPNOTSUPP.
     */
    default void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        throw new KernelException(Errno.EOPNOTSUPP, "domain", domain.owner().name()
                + " cannot replace the domain at a PASID");
    }

    /**
     * {@code domain->ops->map_pages}: maps {@code pgcount} pages of {@code pgsize} at {@code iova} to {@code paddr}.
     * By default the domain's io-pgtable does it (io_pgtable_ops->map_pages, as most drivers wire it); a driver
     * that keeps its own mappings overrides this, {@link #unmapPages} and {@link #iovaToPhys} together.
     */
    default IoPgtable.Mapped mapPages(IommuDomain domain, long iova, long paddr, long pgsize, long pgcount, int prot) {
        return domain.pgtable().mapPages(iova, paddr, pgsize, pgcount, prot);
    }

    /**
     * {@code domain->ops->unmap_pages}: removes up to {@code pgcount} pages of {@code pgsize} at {@code iova},
     * telling {@code sink} what to gather for the IOTLB sync; returns the bytes unmapped (0 at a hole).
     */
    default long unmapPages(IommuDomain domain, long iova, long pgsize, long pgcount, IoPgtable.UnmapSink sink) {
        return domain.pgtable().unmapPages(iova, pgsize, pgcount, sink);
    }

    /** {@code domain->ops->iova_to_phys}: what {@code iova} maps to, 0 when nothing. */
    default long iovaToPhys(IommuDomain domain, long iova) {
        return domain.pgtable().iovaToPhys(iova);
    }

    /**
     * {@code domain->ops->iotlb_sync_map}: called once a whole iommu_map() has succeeded, for hardware that must
     * be told of new mappings (virtio-iommu sends the MAP requests it queued). Nothing by default.
     *
     * @throws dev.iommulab.core.kernel.KernelException when the mappings could not be made visible
     */
    default void iotlbSyncMap(IommuDomain domain, long iova, long size) {
    }

    /**
     * {@code iotlb_sync}: invalidate the IOTLB and the device-TLBs of the devices attached to {@code domain} for the
     * range {@code gather} holds. Called by {@link IommuMap#iotlbSync} (unmap, the DMA API's strict and flush-queue
     * paths) before the freed table pages go back to the allocator; must not fail, and must not return while a
     * translation of the range could still be used. Counterpart of {@code domain->ops->iotlb_sync()}. The default
     * does nothing.
     */
    default void iotlbSync(IommuDomain domain, IotlbGather gather) {
    }

    /**
     * {@code flush_iotlb_all}: invalidate everything {@code domain} may have cached, in the IOTLB and the attached
     * devices' device-TLBs. Called by {@link IommuMap#flushIotlbAll} (the DMA flush queue); must not fail.
     * Counterpart of {@code domain->ops->flush_iotlb_all()}. The default does nothing.
     */
    default void flushIotlbAll(IommuDomain domain) {
    }

    /**
     * {@code free}: {@code domain} is no longer attached anywhere and its owner lets it go (for an SVA domain its mm
     * notifier is put). Called once by the SVA layer at the last unbind and by iommufd when a HWPT is destroyed or
     * an allocation is unwound; the domain is never used again. Counterpart of {@code domain->ops->free()} as
     * iommu_domain_free() calls it. The default does nothing.
     */
    default void free(IommuDomain domain) {
    }
}
