package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.drivers.IommuDriver;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.iopf.IopfQueue;

/**
 * The RISC-V IOMMU driver for one IOMMU, the counterpart of drivers/iommu/riscv/iommu.c: programs the
 * device directory table and the command and fault queues as {@code riscv_iommu_init()} does, writes device
 * contexts at probe, logs fault records from the fault queue's interrupt ({@link FaultQueueHandler}), and
 * sends its commands through {@link CommandQueue}.
 *
 * <p><b>Beyond mainline.</b> The merged driver has no page-request queue, no PASID, no IOPF and no SVA
 * (reference/linux-fault-stack.md §6.4). So that {@code hardware.model: riscv} can run the SVA path, the lab
 * adds them, modelled on the VT-d driver ({@code intel_iommu_enable_iopf()}, {@code intel_svm_set_dev_pasid()},
 * {@code prq_event_thread()}, {@code intel_iommu_page_response()}; the lab's {@code intel.IntelUnit} and
 * {@code intel.PrqHandler}) and on the RISC-V specification's programming guidelines: process directory
 * tables, process contexts for SVA domains with PRI enabled through io-pgfault ({@link PasidAttach}), the
 * page-request queue ({@link PageRequestHandler}), and {@code ATS.PRGR} page responses. Each such piece says
 * so where it is defined.
 *
 * <p>This class is the per-device ops table ({@code riscv_iommu_ops}) over the IOMMU's state ({@link RiscvUnit});
 * what the core asks of a domain is in that domain's own ops — {@link RiscvBlockedDomain},
 * {@link RiscvIdentityDomain}, {@link RiscvPagingDomain}, {@link RiscvSvaDomain}.
 *
 * <p>Device contexts ({@code riscv_iommu_probe_device()} plus the lab's PASID support): a function with a PASID
 * capability gets a valid DC with {@code PDTV}, a process directory table sized for its PASID width
 * ({@code pdtp} PD8/PD17/PD20), {@code iohgatp} Bare, {@code EN_ATS} when it has ATS, {@code EN_PRI} when it
 * has PRI, {@code PRPR} when its PRI requires a PASID on responses (so the IOMMU's own PRG responses carry it),
 * {@code SADE} when the IOMMU updates A/D, and {@code DPE}: requests without a PASID use {@code process_id} 0
 * ({@code IOMMU_NO_PASID}), whose process context stays invalid, so the RID is blocked while PASIDs are usable
 * (the role VT-d's RID_PASID entry plays). A function without PASID keeps the DC the kernel's probe writes:
 * not valid, {@code tc} = SADE only — the blocking domain, "translation requests will fault w/ #258".
 */
public final class RiscvIommuDriver extends IommuDriver {

    /** {@code RISCV_IOMMU_DEF_CQ_COUNT}. */
    public static final int DEFAULT_CQ_ENTRIES = 8192;
    /** {@code RISCV_IOMMU_DEF_FQ_COUNT}. */
    public static final int DEFAULT_FQ_ENTRIES = 4096;
    /** {@code RISCV_IOMMU_DEF_PQ_COUNT} of the unmerged 2023 series (mainline has no page-request queue). */
    public static final int DEFAULT_PQ_ENTRIES = 8192;
    /** {@code RISCV_IOMMU_MAX_PSCID}. */
    static final int MAX_PSCID = (1 << 20) - 1;
    /** {@code RISCV_IOMMU_DDTP_IOMMU_MODE_MAX}. */
    static final int DDTP_MODE_MAX = RiscvRegs.DDTP_MODE_3LVL;
    /** {@code ATS.INVAL} payload for every address: S = 1 and untranslated-address bits 62:12 all ones. */
    static final long ATS_INVAL_ALL = 0x7fff_ffff_ffff_f800L;

    /**
     * Queue sizes the driver asks for (the lab's {@code fq-entries} and {@code pq-entries}); each is rounded up
     * to a power of two when programmed ({@link HwQueue}).
     */
    public record QueueSizes(int fqEntries, int pqEntries) {

        public static final QueueSizes DEFAULTS = new QueueSizes(DEFAULT_FQ_ENTRIES, DEFAULT_PQ_ENTRIES);

        public QueueSizes {
            if (fqEntries < 2 || pqEntries < 2) {
                throw new IllegalArgumentException("queues need at least 2 entries: fq " + fqEntries + ", pq "
                        + pqEntries);
            }
        }
    }

    private final RiscvUnit unit;
    private final RiscvIommuDevice iommu;
    private final CommandQueue cmdq;
    private final PasidAttach pasids;
    private final RiscvDomains domains;

    /**
     * Counterpart of riscv_iommu_platform_probe() and riscv_iommu_init(): checks the IOMMU is off or Bare,
     * selects MSIs, distributes interrupt vectors ({@code icvec}), allocates the DDT root and the queues,
     * enables the command and fault queues (and, beyond mainline, the page-request queue with an iopf queue
     * when the IOMMU has ATS), then sets {@code ddtp} to the deepest mode the IOMMU accepts and invalidates
     * its directory and translation caches. After a page-request queue overflow its thread applies the services'
     * {@code iopf.overflow-recovery} policy; after it cleared {@code fqof} or {@code fqmf} the fault-queue thread
     * applies their {@code fault.overflow-recovery} policy (the kernel's behaviour is {@link FaultOverflowRecovery#NONE}).
     * The IOMMU's state ({@link RiscvUnit}) comes first; the PASID attach helper and the domains are built on it, the
     * static ones first: {@code riscv_iommu_blocking_domain} ({@link RiscvBlockedDomain}) and
     * {@code riscv_iommu_identity_domain} ({@link RiscvIdentityDomain}).
     *
     * @throws KernelException EBUSY if the IOMMU is already translating or a queue does not start, ENOMEM
     *                         when memory runs out, ENODEV when a queue base is not kept, EINVAL when no DDT
     *                         mode is accepted
     */
    public RiscvIommuDriver(RiscvIommu hw, QueueSizes sizes, DriverServices services) {
        super(hw.config().name());
        this.unit = new RiscvUnit(hw, sizes, services);
        this.iommu = unit.iommu();
        this.cmdq = unit.cmdq();
        this.pasids = new PasidAttach(unit);
        this.domains = new RiscvDomains(unit, pasids);
        staticDomains(new RiscvBlockedDomain(this, domains), new RiscvIdentityDomain(this, domains));
    }

    @Override
    protected RiscvUnit unit() {
        return unit;
    }

    /** The iopf queue of the page-request queue, or null when the IOMMU has no ATS. */
    public IopfQueue iopfQueue() {
        return unit.iopfQueue();
    }

    /** Slots of the page-request queue (0 without one); also the PRI allocation each device gets. */
    public int pqEntries() {
        return unit.pqEntries();
    }

    /** Slots of the fault queue (it holds one record fewer). */
    public int fqEntries() {
        return unit.fqEntries();
    }

    /**
     * {@code domain_alloc_sva}. <b>Not in mainline</b> (no SVA); modelled on the kernel's paging domains: each
     * domain gets a PSCID from {@code 1..RISCV_IOMMU_MAX_PSCID} ({@code riscv_iommu_pscids}), which tags its
     * IOTLB entries, and registers an mm notifier on {@code mm} ({@link RiscvSvaDomain}).
     *
     * @throws KernelException ENODEV for a device not behind this IOMMU, ENOSPC when PSCIDs run out
     */
    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        unit.info(dev);
        return RiscvSvaDomain.alloc(this, unit, pasids, mm);
    }

    /** Counterpart of riscv_iommu_alloc_paging_domain(); see {@link RiscvDomains#allocPaging}. */
    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        unit.info(dev);
        return domains.allocPaging(this, flags);
    }

    /**
     * Counterpart of riscv_iommu_capable(): cache coherency only. Mainline does not claim
     * IOMMU_CAP_DEFERRED_FLUSH, so a DMA_FQ domain falls back to strict invalidation (iommu_dma_init_domain()).
     */
    @Override
    public boolean capable(Device dev, IommuCap cap) {
        return cap == IommuCap.CACHE_COHERENCY;
    }

    /**
     * {@code page_response}. <b>Not in mainline</b>; modelled on intel_iommu_page_response() and the 2023
     * series' riscv_iommu_ats_prgr(): one {@code ATS.PRGR} to the device's RID with the group's PRGI, the
     * kernel's response code value unchanged on the wire (SUCCESS 0x0, INVALID 0x1, FAILURE 0x2 — which the
     * function treats as Response Failure; the 2023 series mapped FAILURE to 0xF instead), and the PASID when
     * the request had one ({@code PV}). No {@code IOFENCE.C}: a response needs no completion.
     */
    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        iommu.trace("riscv_iommu_page_response", "ATS.PRGR to %s PASID %s PRGI %d code %d", dev.name(),
                evt.pasidValid() ? msg.pasid() : "-", msg.grpid(), msg.code().value());
        cmdq.send(RiscvCommand.atsPrgr(dev.rid(), evt.pasidValid(), msg.pasid(), msg.grpid(), msg.code().value()));
    }
}
