package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Intel VT-d driver for one remapping unit ({@code drivers/iommu/intel}): programs root, context
 * and PASID tables in memory, enables queued invalidation and the page request queue, services page
 * requests from its interrupt ({@link PrqHandler}) and answers groups with page group response
 * descriptors.
 */
public final class IntelIommu implements IommuOps {

    /** PRQ_ORDER: the kernel's page request queue is 2^4 pages = 2048 descriptors (the default here). */
    public static final int PRQ_ORDER = 4;
    /** PRQ_DEPTH: the kernel's descriptors in the ring, also the PRI allocation given to each device. */
    public static final int PRQ_DEPTH = (4096 << PRQ_ORDER) / VtdRegs.DESC_SIZE;

    /** IOAPIC_RANGE_START..IOAPIC_RANGE_END, the x86 MSI window every device has reserved. */
    static final IommuResvRegion IOAPIC_RANGE = new IommuResvRegion(0xfee0_0000L, 0x10_0000L, 0,
            IommuResvRegion.Type.MSI);

    private final String name;
    private final VtdUnit unit;
    private final FrameAllocator frames;
    private final IoPgfault iopf;
    private final EventLoop loop;
    private final TimingModel timing;
    private final KernelLog log;
    private final PasidTables tables;
    private final QueuedInvalidation qi;
    private final IopfQueue iopfQueue;
    private final DmarFaultHandler faultHandler;
    private final PasidTeardown teardown;
    private final IntelSva sva;
    private final int prqDepth;
    private final Map<Integer, DeviceInfo> devices = new HashMap<>();
    /** IDA_START_DID: domain IDs 0 (caching mode) and 1 (FLPT_DEFAULT_DID, pass-through) are reserved. */
    private int nextDomainId = 2;
    private IntelDomains domains;
    private CacheTags cacheTags;

    /** Counterpart of init_dmars() / intel_iommu_init() for one unit: tables, QI, PRQ, translation on. */
    public IntelIommu(String name, VtdUnit unit, FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                      TimingModel timing, KernelLog log, FaultEvents events) {
        this(name, unit, frames, iopf, loop, timing, log, events, OverflowRecovery.DISCARD_PARTIALS);
    }

    /** The same with the {@code iopf.overflow-recovery} policy the PRQ thread applies after PRO. */
    public IntelIommu(String name, VtdUnit unit, FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                      TimingModel timing, KernelLog log, FaultEvents events, OverflowRecovery overflowRecovery) {
        this(name, unit, frames, iopf, loop, timing, log, events, overflowRecovery, FaultOverflowRecovery.NONE);
    }

    /**
     * The same with the {@code fault.overflow-recovery} policy the fault event handler queues after it cleared
     * FSTS.PFO ({@link DmarFaultHandler}).
     */
    public IntelIommu(String name, VtdUnit unit, FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                      TimingModel timing, KernelLog log, FaultEvents events, OverflowRecovery overflowRecovery,
                      FaultOverflowRecovery faultRecovery) {
        this.name = name;
        this.unit = unit;
        this.frames = frames;
        this.iopf = iopf;
        this.loop = loop;
        this.timing = timing;
        this.log = log;
        this.tables = new PasidTables(frames);
        unit.writeReg(VtdRegs.RTADDR, tables.rootTable() | VtdRegs.RTADDR_SMT);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP);
        this.qi = new QueuedInvalidation(unit, frames);
        log.info("DMAR: %s: Using Queued invalidation", name);
        this.iopfQueue = iopf.queueAlloc(name + "-iopfq");
        int prqOrder = unit.config().prqOrder();
        this.prqDepth = (4096 << prqOrder) / VtdRegs.DESC_SIZE;
        long prq = frames.allocateContiguous(1 << prqOrder);
        PrqHandler handler = new PrqHandler(this, prq, prqOrder, devices, iopf, iopfQueue, log, events, loop,
                overflowRecovery);
        unit.setPageRequestInterrupt(handler::irq);
        this.teardown = new PasidTeardown(this, handler, iopf);
        this.sva = new IntelSva(this);
        unit.writeReg(VtdRegs.PQH, 0);
        unit.writeReg(VtdRegs.PQA, prq | prqOrder);
        this.faultHandler = new DmarFaultHandler(name, unit, log, loop,
                () -> devices.values().stream().map(i -> i.pci).toList(), faultRecovery, timing.threadWakeNs());
        faultHandler.setInterrupt();
        unit.writeReg(VtdRegs.GCMD, unit.readReg(VtdRegs.GSTS) | VtdRegs.GCMD_TE);
        log.info("DMAR: Intel(R) Virtualization Technology for Directed I/O");
    }

    @Override
    public String name() {
        return name;
    }

    VtdUnit unit() {
        return unit;
    }

    PhysicalMemory memory() {
        return frames.memory();
    }

    TimingModel timing() {
        return timing;
    }

    QueuedInvalidation qi() {
        return qi;
    }

    DmarFaultHandler faultHandler() {
        return faultHandler;
    }

    PasidTables tables() {
        return tables;
    }

    PasidTeardown teardown() {
        return teardown;
    }

    FrameAllocator frames() {
        return frames;
    }

    EventLoop loop() {
        return loop;
    }

    /** The domains other than SVA and their cache tags, set up on first use. */
    private IntelDomains domains() {
        if (domains == null) {
            domains = new IntelDomains(this);
            cacheTags = new CacheTags(this, domains);
        }
        return domains;
    }

    /** The cache-tag flushes (intel/cache.c), set up on first use. */
    CacheTags cacheTags() {
        domains();
        return cacheTags;
    }

    /** A driver step in the trace, prefixed with this unit's name; formatted only when the trace is on. */
    void trace(String symbol, String format, Object... args) {
        loop.trace().step(loop.now(), Layer.DRIVER, symbol, "%s: " + format, Trace.prepend(name, args));
    }

    /** A domain ID from IDA_START_DID up to cap_ndoms - 1 (65535 here); ENOSPC when they run out. */
    int allocDomainId() {
        if (nextDomainId > 0xffff) {
            throw new KernelException(Errno.ENOSPC, "did", "no domain ID left on " + name);
        }
        return nextDomainId++;
    }

    public IopfQueue iopfQueue() {
        return iopfQueue;
    }

    /**
     * Descriptors in this unit's page request queue: {@code VtdConfig.prqEntries()} rounded up to a
     * power-of-two number of 4 KiB pages (PQA.PQS), {@link #PRQ_DEPTH} by default. Like the kernel's
     * PRQ_DEPTH it is also the PRI allocation each device gets.
     */
    public int prqDepth() {
        return prqDepth;
    }

    /**
     * Counterpart of intel_iommu_probe_device() and intel_iommu_probe_finalize(): writes the device's scalable context
     * entry and enables its PASID and ATS capabilities.
     */
    @Override
    public void probeDevice(Device dev, PcieEndpoint pci) {
        if (devices.containsKey(dev.rid())) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " already probed");
        }
        boolean pasid = dev.maxPasids() > 0;
        boolean ats = pci.config().ats();
        long[] dir = tables.allocPasidDirectory(Math.max(dev.maxPasids(), 1));
        tables.setContext(dev.rid(), dir[0], (int) dir[1], ats, pasid, pci.config().pri());
        pci.setPasidEnabled(pasid);
        pci.setAtsEnabled(ats);
        devices.put(dev.rid(), new DeviceInfo(dev, pci, dir[0]));
    }

    DeviceInfo info(Device dev) {
        DeviceInfo info = devices.get(dev.rid());
        if (info == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " is not behind " + name);
        }
        return info;
    }

    /** intel_svm_domain_alloc(); see {@link IntelSva}. */
    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        info(dev);
        return sva.allocDomain(mm);
    }

    /** The domain's free op: intel_svm_domain_free() for an SVA domain (its mm notifier is put). */
    @Override
    public void domainFree(IommuDomain domain) {
        if (domain.type() == DomainType.SVA) {
            sva.free(domain);
        }
    }

    /** {@code blocking_domain}: the RID_PASID (or PASID) entry is torn down; see {@link IntelDomains}. */
    @Override
    public IommuDomain blockedDomain() {
        return domains().blocked;
    }

    /** {@code identity_domain}: a pass-through PASID entry; see {@link IntelDomains}. */
    @Override
    public IommuDomain identityDomain() {
        return domains().identity;
    }

    /**
     * Counterpart of intel_iommu_domain_alloc_paging_flags(): a first-stage paging domain (VT-d first-stage
     * io-pgtable), or a second-stage one with IOMMU_HWPT_ALLOC_NEST_PARENT.
     *
     * @throws KernelException ENODEV for a device not behind this unit, EOPNOTSUPP for other flags, ENOMEM
     *                         without a root page, ENOSPC without a domain ID
     */
    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        return domains().allocPaging(dev, flags);
    }

    /** Counterpart of intel_iommu_domain_alloc_nested(); see {@link IntelDomains#allocNested}. */
    @Override
    public IommuDomain domainAllocNested(Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        return domains().allocNested(dev, parent, s1Table, addressWidth);
    }

    /**
     * The attach_dev of each domain type at the RID (RID_PASID entry): blocked, identity, paging, nested; SVA
     * domains have none (ENODEV). A fault-capable paging or nested domain ({@code iopf_handler} set) enables IOPF
     * (iopf_for_domain_replace(), ENODEV without PRI); the blocked domain drops it (blocking_domain_attach_dev());
     * see {@link IntelDomains}.
     */
    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        domains().attachDev(domain, info(dev));
    }

    /** Counterpart of intel_iommu_tlb_sync(): cache_tag_flush_range() over the gathered range. */
    @Override
    public void iotlbSync(IommuDomain domain, IotlbGather gather) {
        domains();
        cacheTags.flushRange(domain, gather);
    }

    /**
     * Counterpart of intel_iommu_capable(): cache coherency (the lab's units snoop) and deferred flush, so DMA_FQ
     * domains keep their flush queue.
     */
    @Override
    public boolean capable(Device dev, IommuCap cap) {
        return cap == IommuCap.CACHE_COHERENCY || cap == IommuCap.DEFERRED_FLUSH;
    }

    /**
     * Counterpart of intel_iommu_get_resv_regions(): the interrupt window IOAPIC_RANGE_START..IOAPIC_RANGE_END
     * (0xfee00000-0xfeefffff) as IOMMU_RESV_MSI; the lab's firmware has no RMRRs.
     */
    @Override
    public List<IommuResvRegion> getResvRegions(Device dev) {
        return List.of(IOAPIC_RANGE);
    }

    /** Counterpart of intel_flush_iotlb_all(): cache_tag_flush_all(). */
    @Override
    public void flushIotlbAll(IommuDomain domain) {
        domains();
        cacheTags.flushAll(domain);
    }

    /**
     * set_dev_pasid with the old domain (iommu_replace_device_pasid()): the new entry is written over the old
     * one, whose caches are flushed; IOPF of a fault-capable new domain is enabled before the old one's is dropped.
     * Not for SVA domains here (EOPNOTSUPP).
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        DeviceInfo info = info(dev);
        if (domain.type() == DomainType.SVA || old.type() == DomainType.SVA) {
            throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
        }
        domains().setDevPasid(domain, info, pasid, old);
    }

    /**
     * Counterpart of intel_svm_set_dev_pasid() for an SVA domain ({@link IntelSva}); of intel_iommu_set_dev_pasid()
     * / identity_domain_set_dev_pasid() for the others ({@link IntelDomains}).
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        DeviceInfo info = info(dev);
        if (domain.type() == DomainType.SVA) {
            sva.setDevPasid(info, domain, pasid);
        } else {
            domains().setDevPasid(domain, info, pasid, null);
        }
    }

    /**
     * The blocked domain at a PASID (blocking_domain_set_dev_pasid()), for SVA and other domains alike: IOPF
     * reference dropped, entry torn down and, while the device keeps IOPF on, its page requests drained.
     */
    @Override
    public void removeDevPasid(Device dev, int pasid, IommuDomain domain) {
        DeviceInfo info = info(dev);
        if (domain.type() == DomainType.SVA) {
            sva.removeDevPasid(info, pasid, domain);
        } else {
            domains().removeDevPasid(info, pasid, domain);
        }
    }

    /**
     * Counterpart of intel_iommu_enable_iopf(): a device without PRI cannot take page faults through the IOMMU
     * (ENODEV, the kernel's {@code !info->pri_enabled}); otherwise the first fault-capable attachment adds the
     * device to the unit's iopf queue and enables PRI with an allocation of {@link #prqDepth()} (the lab enables PRI
     * here rather than at probe, see docs/hardware-models.md), later ones only count. A failure leaves the count
     * as it was.
     *
     * @throws KernelException ENODEV without PRI; what iopf_queue_add_device() reports
     */
    void enableIopf(DeviceInfo info) {
        if (!info.pci.config().pri()) {
            throw new KernelException(Errno.ENODEV, "dev", info.dev + " has no PRI for I/O page faults");
        }
        if (info.iopfRefcount > 0) {
            info.iopfRefcount++;
            return;
        }
        iopf.queueAddDevice(iopfQueue, info.dev);
        info.pci.enablePri(prqDepth);
        info.iopfRefcount = 1;
    }

    /**
     * Counterpart of intel_iommu_disable_iopf(): the last fault-capable attachment disables PRI, then removes the
     * device from the iopf queue ({@code iopf_queue_remove_device()}: partials freed, every pending group answered
     * INVALID). Without PRI or a reference it does nothing (the kernel WARNs).
     */
    void disableIopf(DeviceInfo info) {
        if (!info.pci.config().pri() || info.iopfRefcount == 0) {
            return;
        }
        if (--info.iopfRefcount > 0) {
            return;
        }
        info.pci.disablePri();
        iopf.queueRemoveDevice(iopfQueue, info.dev);
    }

    /** iopf_for_domain_set() (intel/iommu.h): IOPF for a fault-capable domain ({@code iopf_handler} set). */
    void iopfForDomainSet(IommuDomain domain, DeviceInfo info) {
        if (domain != null && domain.iopfHandler() != null) {
            enableIopf(info);
        }
    }

    /** iopf_for_domain_remove() (intel/iommu.h): drops the IOPF reference a fault-capable domain held. */
    void iopfForDomainRemove(IommuDomain domain, DeviceInfo info) {
        if (domain != null && domain.iopfHandler() != null) {
            disableIopf(info);
        }
    }

    /**
     * Counterpart of intel_iommu_page_response(): one page group response descriptor, PASID-present
     * from the request, the kernel's code value unchanged, PRG index and LPIG from the last fault.
     */
    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        loop.trace().step(loop.now(), Layer.DRIVER, "intel_iommu_page_response",
                "%s: page group response to %s PASID %d PRGI %d code %d", name, dev.name(), msg.pasid(), msg.grpid(),
                msg.code().value());
        qi.submitSync(QiDescriptor.pageGroupResponse(dev.rid(), evt.pasidValid(), msg.pasid(), msg.code().value(),
                msg.grpid(), evt.lastPage()));
    }
}
