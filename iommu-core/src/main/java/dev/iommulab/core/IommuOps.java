package dev.iommulab.core;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.PcieEndpoint;

/**
 * The driver SPI, {@code struct iommu_ops}: what the core asks of a vendor driver. All methods run on
 * the simulation thread from kernel context (no blocking); a method that throws
 * {@link dev.iommulab.core.kernel.KernelException} must leave hardware and driver state unchanged.
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
     * SVA layer under its lock.
     */
    IommuDomain domainAllocSva(Device dev, MmStruct mm);

    /**
     * {@code set_dev_pasid}: make {@code domain} translate requests of {@code dev} tagged with
     * {@code pasid}. Called by {@link IommuCore#attachDevicePasid}. Enables IOPF for the device when
     * the domain is fault-capable.
     */
    void setDevPasid(IommuDomain domain, Device dev, int pasid);

    /**
     * {@code attach_dev}: make {@code domain} translate requests of {@code dev} without PASID. Called by
     * {@link IommuCore#attachDevice}; the default does nothing (the drivers here only program PASIDs).
     */
    default void attachDev(IommuDomain domain, Device dev) {
    }

    /**
     * The blocked domain's {@code set_dev_pasid}: tear the PASID down (entry, caches, drain) and drop
     * the IOPF reference {@code domain} held. Called by {@link IommuCore#detachDevicePasid}.
     */
    void removeDevPasid(Device dev, int pasid, IommuDomain domain);

    /**
     * {@code page_response}: send {@code msg} to the device for the group whose last request was
     * {@code evt}. Called by io-pgfault exactly once per group; must not fail.
     */
    void pageResponse(Device dev, IommuFault evt, PageResponse msg);
}
