package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.DriverUnit;
import dev.iommulab.drivers.IommuDriver;
import dev.iommulab.hw.viommu.ViommuRequest;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;

import java.util.List;

/**
 * The guest's virtio-iommu driver, {@code viommu_ops} of drivers/iommu/virtio-iommu.c, over the device model
 * {@link VirtioIommu}: paging domains that keep their mappings in the driver and send MAP/UNMAP requests, a static
 * identity domain with BYPASS_CONFIG (an ATTACH with the bypass flag), no blocked domain (the core blocks with an
 * empty paging domain), no PASID, no SVA, no page responses. Faults arrive on the event queue and are logged
 * ({@code virtio_iommu virtio0: page fault from EP 16 at 0x20000 [R]}); mainline reports them nowhere else.
 *
 * <p>Lab option {@code reportIommuFault}: the driver does what its "TODO: find EP by ID and report_iommu_fault"
 * says — the endpoint's current domain gets {@code report_iommu_fault()}, so a fault handler a device driver
 * installed with {@code iommu_set_fault_handler()} runs.
 */
public final class ViommuDriver extends IommuDriver {

    /** QEMU's {@code VIOMMU_DEFAULT_QUEUE_SIZE}. */
    public static final int DEFAULT_QUEUE_SIZE = 256;

    /**
     * How the guest sets its virtio-iommu up.
     *
     * @param queueSize        entries of each virtqueue, a power of two
     * @param eventBuffers     event buffers posted at probe (Linux: one per entry)
     * @param reportIommuFault the lab option above
     */
    public record Options(int queueSize, int eventBuffers, boolean reportIommuFault) {

        public static final Options DEFAULTS = new Options(DEFAULT_QUEUE_SIZE, DEFAULT_QUEUE_SIZE, false);

        public Options {
            if (queueSize < 1 || queueSize > 32768 || Integer.bitCount(queueSize) != 1) {
                throw new IllegalArgumentException("queue size must be a power of two up to 32768: " + queueSize);
            }
            if (eventBuffers < 0 || eventBuffers > queueSize) {
                throw new IllegalArgumentException("event buffers must be in [0, " + queueSize + "]: " + eventBuffers);
            }
        }
    }

    private final ViommuDev viommu;
    private final ViommuDomain identity;

    /**
     * Probes {@code device} (viommu_probe()).
     *
     * @param name   the virtio device's name in the guest ({@code virtio0})
     * @param legacy the kernel's report_iommu_fault(), used with {@link Options#reportIommuFault()} (may be null
     *               without it)
     * @throws KernelException what viommu_probe() fails with
     */
    public ViommuDriver(VirtioIommu device, String name, Options options, DriverServices services,
                        LegacyFaultReporting legacy) {
        super(name);
        EventQueue.FaultSink sink = options.reportIommuFault() ? (ep, addr, flags) -> report(legacy, ep, addr, flags)
                : null;
        this.viommu = new ViommuDev(device, name, options.queueSize(), options.eventBuffers(), services, sink);
        this.identity = viommu.identityDomainId() < 0 ? null
                : ViommuDomain.identity(this, viommu, viommu.identityDomainId());
        staticDomains(null, identity);
    }

    private void report(LegacyFaultReporting legacy, int endpoint, long address, int flags) {
        ViommuEndpoint vdev = viommu.devices().get(endpoint);
        if (vdev == null || vdev.ridDomain() == null) {
            return;
        }
        int fl = (flags & ViommuWire.FAULT_F_WRITE) != 0 ? LegacyFaultReporting.IOMMU_FAULT_WRITE
                : LegacyFaultReporting.IOMMU_FAULT_READ;
        legacy.reportIommuFault(vdev.ridDomain().domain(), vdev.dev(), address, fl);
    }

    @Override
    protected DriverUnit<?> unit() {
        return viommu;
    }

    /** Whether a synchronous request never came back (the guest CPU would spin in __viommu_sync_req()). */
    public boolean hung() {
        return viommu.requests().hung();
    }

    /**
     * Whether an UNMAP of {@code iova} in {@code domain} is queued and not yet answered: the guest no longer maps the
     * IOVA, but the device may still translate it until the UNMAP goes out (the DMA API's flush queue holds it back).
     */
    public boolean unmapPending(IommuDomain domain, long iova) {
        if (!(domain.ops() instanceof ViommuDomain d)) {
            return false;
        }
        return viommu.requests().pending().stream().anyMatch(r -> r instanceof ViommuRequest.Unmap u
                && u.domain() == d.id && Long.compareUnsigned(iova, u.virtStart()) >= 0
                && Long.compareUnsigned(iova, u.virtEnd()) <= 0);
    }

    /** Event buffers the driver's event handler took back from the device so far, each holding one record. */
    public long eventsTaken() {
        return viommu.events().taken();
    }

    /** The virtio device status as the guest reads it. */
    public int deviceStatus() {
        return viommu.device().status();
    }

    @Override
    public boolean hasPageResponse() {
        return false;
    }

    /**
     * Counterpart of viommu_domain_alloc_paging(): a domain with the device's page sizes and input range, and the
     * lowest free ID; ENODEV when the device's granule is larger than the guest's page.
     */
    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        viommu.info(dev);
        long granule = Long.lowestOneBit(viommu.pgsizeBitmap());
        if (Long.compareUnsigned(granule, 4096) > 0) {
            viommu.log().err("pci %s: granule %s larger than system page size 0x1000", dev.pciName(),
                    EventQueue.hex(granule));
            throw new KernelException(Errno.ENODEV, "dev", "granule " + granule);
        }
        return ViommuDomain.paging(this, viommu, viommu.allocDomainId()).domain();
    }

    /** Counterpart of viommu_capable(): cache coherency and deferred flush. */
    @Override
    public boolean capable(Device dev, IommuCap cap) {
        return cap == IommuCap.CACHE_COHERENCY || cap == IommuCap.DEFERRED_FLUSH;
    }

    @Override
    public List<IommuResvRegion> getResvRegions(Device dev) {
        return viommu.resvRegions(dev);
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        throw new KernelException(Errno.ENODEV, "dev", name() + " has no page requests");
    }
}
