package dev.iommulab.core;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.List;

/**
 * The driver SPI, {@code struct iommu_ops}: what the core asks of a vendor driver per device — probe, domain
 * allocation, the static blocked and identity domains, capabilities, reserved regions, page responses. What the core
 * asks of one domain (attach, set a PASID, IOTLB sync and flush, free) is that domain's {@link IommuDomainOps},
 * carried by the domain ({@code struct iommu_domain_ops}). All methods run on the simulation thread from kernel
 * context (no blocking); a method that throws {@link dev.iommulab.core.kernel.KernelException} must leave hardware
 * and driver state unchanged.
 */
public interface IommuOps {

    /** The driver's name in logs, e.g. {@code DMAR}. */
    String name();

    /**
     * {@code iommu_ops.user_pasid_table}: the PASID table belongs to a guest, so faults for PASIDs
     * without an attachment are routed to the NESTED domain on the RID.
     */
    default boolean userPasidTable() {
        return false;
    }

    /** Whether {@link #pageResponse} is implemented (iopf_queue_add_device refuses otherwise). */
    default boolean hasPageResponse() {
        return true;
    }

    /**
     * {@code probe_device} and {@code probe_finalize}: set the device up behind this IOMMU (its context
     * entry, PASID table) and enable what it supports of PASID and ATS. Called once by
     * {@link IommuCore#probeDevice}.
     */
    void probeDevice(Device dev, PcieEndpoint pci);

    /**
     * {@code domain_alloc_sva}: a new SVA domain for {@code mm}, usable on {@code dev}. Called by the
     * SVA layer under its lock. A driver that does not override it has no such op, and
     * iommu_sva_domain_alloc() fails with EOPNOTSUPP.
     */
    default IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        throw new KernelException(Errno.EOPNOTSUPP, "dev", name() + " has no domain_alloc_sva");
    }

    /**
     * {@code ops->blocked_domain}: the driver's static BLOCKED domain, which lets no DMA through; null when the
     * driver has none. Its ops' {@code set_dev_pasid} with {@code old} is how the core takes a PASID down
     * ({@link IommuCore#detachDevicePasid}), so a driver without one cannot have PASIDs attached.
     */
    default IommuDomain blockedDomain() {
        return null;
    }

    /** {@code ops->identity_domain}: the driver's static IDENTITY (pass-through) domain; null when it has none. */
    default IommuDomain identityDomain() {
        return null;
    }

    /**
     * {@code def_domain_type}: the default domain type {@code dev} needs (IDENTITY or DMA), or null for no
     * preference. Called at probe.
     */
    default DomainType defDomainType(Device dev) {
        return null;
    }

    /**
     * {@code domain_alloc_paging_flags}: a new paging domain for {@code dev} (built with
     * {@link IommuDomain#paging}); {@code flags} are the {@code IOMMU_HWPT_ALLOC_*} bits
     * ({@link IommuCore#HWPT_ALLOC_NEST_PARENT}). The default refuses with EOPNOTSUPP.
     */
    default IommuDomain domainAllocPaging(Device dev, int flags) {
        throw new KernelException(Errno.EOPNOTSUPP, "dev", name() + " has no paging domains");
    }

    /**
     * {@code domain_alloc_nested}: a NESTED domain on the nest-parent paging domain {@code parent}, whose first
     * stage is the table at {@code s1Table} (an address in the parent's IOVA space, e.g. a guest physical
     * address) of {@code addressWidth} bits. The default refuses with EOPNOTSUPP.
     */
    default IommuDomain domainAllocNested(Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        throw new KernelException(Errno.EOPNOTSUPP, "dev", name() + " has no nested domains");
    }

    /**
     * {@code capable}: whether the driver offers {@code cap} for {@code dev} (device_iommu_capable()). Called by
     * the core and dma-iommu at domain set-up; must not fail. The default claims nothing.
     */
    default boolean capable(Device dev, IommuCap cap) {
        return false;
    }

    /**
     * {@code get_resv_regions}: the IOVA ranges of {@code dev} that are not ordinary DMA space (RMRRs, the MSI
     * window). Called by dma-iommu when it sets up a DMA domain's IOVA allocator (iova_reserve_iommu_regions());
     * must not fail. The default reports none.
     */
    default List<IommuResvRegion> getResvRegions(Device dev) {
        return List.of();
    }

    /**
     * {@code page_response}: send {@code msg} to the device for the group whose last request was
     * {@code evt}. Called by io-pgfault exactly once per group; must not fail.
     */
    void pageResponse(Device dev, IommuFault evt, PageResponse msg);
}
