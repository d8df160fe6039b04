package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.DriverUnit;
import dev.iommulab.drivers.IopfRefcount;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.IopfQueue;

/**
 * What every part of the VT-d driver shares about one remapping unit, {@code struct intel_iommu}: the register
 * window, the root/context/PASID tables, the invalidation queue, the page request queue's memory and iopf queue, the
 * probed devices ({@code struct device_domain_info}, kept by {@link DriverUnit}), the domain ID allocator and the IOPF
 * reference counting of fault-capable attachments ({@link IopfRefcount}). It is built first, from the unit's
 * registers up — root table set, queued invalidation on, the PRQ allocated — and handed to the helpers ({@link PrqHandler}, {@link PasidTeardown}, {@link CacheTags},
 * {@link IntelDomains}); {@link IntelIommu} is the ops table over it.
 */
final class IntelUnit extends DriverUnit<DeviceInfo> {

    private final String name;
    private final VtdUnit unit;
    private final PasidTables tables;
    private final QueuedInvalidation qi;
    private final IopfQueue iopfQueue;
    private final IopfRefcount iopfRefs;
    private final int prqOrder;
    private final int prqDepth;
    private final long prq;
    /** IDA_START_DID: domain IDs 0 (caching mode) and 1 (FLPT_DEFAULT_DID, pass-through) are reserved. */
    private int nextDomainId = 2;

    /**
     * The first half of init_dmars() for one unit: the root table (RTADDR, SRTP), queued invalidation, the unit's
     * iopf queue and the page request queue's pages ({@code VtdConfig.prqOrder()}); the PRQ registers and
     * translation are enabled by {@link IntelIommu} once its handlers exist.
     */
    IntelUnit(String name, VtdUnit unit, DriverServices services) {
        super(services);
        this.name = name;
        this.unit = unit;
        FrameAllocator frames = services.frames();
        this.tables = new PasidTables(frames);
        unit.writeReg(VtdRegs.RTADDR, tables.rootTable() | VtdRegs.RTADDR_SMT);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP);
        this.qi = new QueuedInvalidation(unit, frames);
        log().info("DMAR: %s: Using Queued invalidation", name());
        this.iopfQueue = iopf().queueAlloc(name() + "-iopfq");
        this.prqOrder = unit.config().prqOrder();
        this.prqDepth = (4096 << prqOrder) / VtdRegs.DESC_SIZE;
        this.prq = frames.allocateContiguous(1 << prqOrder);
        this.iopfRefs = new IopfRefcount(iopf(), iopfQueue, prqDepth);
    }

    @Override
    public String name() {
        return name;
    }

    VtdUnit unit() {
        return unit;
    }

    PasidTables tables() {
        return tables;
    }

    QueuedInvalidation qi() {
        return qi;
    }

    IopfQueue iopfQueue() {
        return iopfQueue;
    }

    /**
     * IOPF of fault-capable attachments: intel_iommu_enable_iopf() / intel_iommu_disable_iopf() with a PRI allocation
     * of {@link #prqDepth()} (the lab enables PRI there rather than at probe, see docs/hardware-models.md), and
     * iopf_for_domain_set() / iopf_for_domain_remove().
     */
    IopfRefcount iopfRefs() {
        return iopfRefs;
    }

    /** PQA.PQS: the page request queue is 2^order pages. */
    int prqOrder() {
        return prqOrder;
    }

    /** Descriptors in the page request queue, also the PRI allocation each device gets. */
    int prqDepth() {
        return prqDepth;
    }

    /** Physical address of the page request queue. */
    long prq() {
        return prq;
    }

    /** A driver step in the trace, prefixed with this unit's name; formatted only when the trace is on. */
    void trace(String symbol, String format, Object... args) {
        if (loop().trace().enabled()) { // spares the prefixed format and arguments when nobody listens
            loop().trace().step(loop().now(), Layer.DRIVER, symbol, "%s: " + format, Trace.prepend(name(), args));
        }
    }

    /** A domain ID from IDA_START_DID up to cap_ndoms - 1 (65535 here); ENOSPC when they run out. */
    int allocDomainId() {
        if (nextDomainId > 0xffff) {
            throw new KernelException(Errno.ENOSPC, "did", "no domain ID left on " + name());
        }
        return nextDomainId++;
    }

    /**
     * Counterpart of intel_iommu_probe_device() and intel_iommu_probe_finalize(): a PASID directory, the device's
     * scalable context entry, and its PASID and ATS capabilities enabled as the function supports them.
     */
    @Override
    protected DeviceInfo probe(Device dev, PcieEndpoint pci) {
        boolean pasid = dev.maxPasids() > 0;
        boolean ats = pci.config().ats();
        long[] dir = tables.allocPasidDirectory(Math.max(dev.maxPasids(), 1));
        tables.setContext(dev.rid(), dir[0], (int) dir[1], ats, pasid, pci.config().pri());
        pci.setPasidEnabled(pasid);
        pci.setAtsEnabled(ats);
        return new DeviceInfo(dev, pci, dir[0]);
    }
}
