package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.IommuDriver;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.IopfQueue;
import java.util.List;

/**
 * The Intel VT-d driver for one remapping unit ({@code drivers/iommu/intel}), its {@code intel_iommu_ops}: programs
 * root, context and PASID tables in memory, enables queued invalidation and the page request queue, services page
 * requests from its interrupt ({@link PrqHandler}) and answers groups with page group response descriptors. This
 * class is the per-device ops table over the unit's state ({@link IntelUnit}); what the core asks of a domain is in
 * that domain's own ops — {@link IntelBlockedDomain}, {@link IntelIdentityDomain}, {@link IntelPagingDomain},
 * {@link IntelNestedDomain}, {@link IntelSvaDomain}.
 */
public final class IntelIommu extends IommuDriver {

    /** PRQ_ORDER: the kernel's page request queue is 2^4 pages = 2048 descriptors (the default here). */
    public static final int PRQ_ORDER = 4;
    /** PRQ_DEPTH: the kernel's descriptors in the ring, also the PRI allocation given to each device. */
    public static final int PRQ_DEPTH = (4096 << PRQ_ORDER) / VtdRegs.DESC_SIZE;

    /** IOAPIC_RANGE_START..IOAPIC_RANGE_END, the x86 MSI window every device has reserved. */
    static final IommuResvRegion IOAPIC_RANGE = new IommuResvRegion(0xfee0_0000L, 0x10_0000L, 0,
            IommuResvRegion.Type.MSI);

    private final IntelUnit unit;
    private final QueuedInvalidation qi;
    private final EventLoop loop;
    private final DmarFaultHandler faultHandler;
    private final IntelDomains domains;

    /**
     * Counterpart of init_dmars() / intel_iommu_init() for one unit: tables, QI, PRQ, translation on. The unit's
     * state ({@link IntelUnit}: root table, queued invalidation, PRQ pages) comes first; the PRQ thread (with the
     * {@code iopf.overflow-recovery} policy it applies after PRO), the PASID teardown, the cache-tag flushes and the
     * domains are built on it; then the PRQ and the fault event interrupt (with the {@code fault.overflow-recovery}
     * policy {@link DmarFaultHandler} queues after it cleared FSTS.PFO) are enabled and translation turned on. The
     * static domains are {@code blocking_domain} ({@link IntelBlockedDomain}: the RID_PASID or PASID entry is torn
     * down) and {@code identity_domain} ({@link IntelIdentityDomain}: a pass-through PASID entry).
     */
    public IntelIommu(String name, VtdUnit unit, DriverServices services) {
        super(name);
        IntelUnit ctx = new IntelUnit(name, unit, services);
        this.unit = ctx;
        this.qi = ctx.qi();
        this.loop = services.loop();
        PrqHandler handler = new PrqHandler(ctx);
        unit.setPageRequestInterrupt(handler::irq);
        this.domains = new IntelDomains(ctx, new PasidTeardown(ctx, handler), new CacheTags(ctx));
        staticDomains(new IntelBlockedDomain(this, domains), new IntelIdentityDomain(this, domains));
        unit.writeReg(VtdRegs.PQH, 0);
        unit.writeReg(VtdRegs.PQA, ctx.prq() | ctx.prqOrder());
        this.faultHandler = new DmarFaultHandler(name, unit, services.log(), loop,
                ctx::endpoints, services.faultRecovery(), services.timing().threadWakeNs());
        faultHandler.setInterrupt();
        unit.writeReg(VtdRegs.GCMD, unit.readReg(VtdRegs.GSTS) | VtdRegs.GCMD_TE);
        services.log().info("DMAR: Intel(R) Virtualization Technology for Directed I/O");
    }

    @Override
    protected IntelUnit unit() {
        return unit;
    }

    DmarFaultHandler faultHandler() {
        return faultHandler;
    }

    public IopfQueue iopfQueue() {
        return unit.iopfQueue();
    }

    /**
     * Descriptors in this unit's page request queue: {@code VtdConfig.prqEntries()} rounded up to a
     * power-of-two number of 4 KiB pages (PQA.PQS), {@link #PRQ_DEPTH} by default. Like the kernel's
     * PRQ_DEPTH it is also the PRI allocation each device gets.
     */
    public int prqDepth() {
        return unit.prqDepth();
    }

    /** Counterpart of intel_svm_domain_alloc(); see {@link IntelSvaDomain}. */
    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        unit.info(dev);
        return IntelSvaDomain.alloc(this, domains, mm);
    }

    /**
     * Counterpart of intel_iommu_domain_alloc_paging_flags(): a first-stage paging domain (VT-d first-stage
     * io-pgtable), or a second-stage one with IOMMU_HWPT_ALLOC_NEST_PARENT; see {@link IntelPagingDomain}.
     *
     * @throws KernelException ENODEV for a device not behind this unit, EOPNOTSUPP for other flags, ENOMEM
     *                         without a root page, ENOSPC without a domain ID
     */
    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        return domains.allocPaging(this, dev, flags);
    }

    /** Counterpart of intel_iommu_domain_alloc_nested(); see {@link IntelDomains#allocNested}. */
    @Override
    public IommuDomain domainAllocNested(Device dev, IommuDomain parent, long s1Table, int addressWidth) {
        return domains.allocNested(this, dev, parent, s1Table, addressWidth);
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

    /**
     * Counterpart of intel_iommu_page_response() (formerly intel_svm_page_response()): one page group response
     * descriptor, PASID-present from the request, the kernel's code value unchanged, PRG index and LPIG from the
     * last fault.
     */
    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        loop.trace().step(loop.now(), Layer.DRIVER, "intel_iommu_page_response",
                "%s: page group response to %s PASID %d PRGI %d code %d", name(), dev.name(), msg.pasid(), msg.grpid(),
                msg.code().value());
        qi.submitSync(QiDescriptor.pageGroupResponse(dev.rid(), evt.pasidValid(), msg.pasid(), msg.code().value(),
                msg.grpid(), evt.lastPage()));
    }
}
