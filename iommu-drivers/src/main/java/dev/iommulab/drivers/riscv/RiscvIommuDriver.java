package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
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
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import java.util.HashMap;
import java.util.Map;

/**
 * The RISC-V IOMMU driver for one IOMMU, the counterpart of drivers/iommu/riscv/iommu.c: programs the
 * device directory table and the command and fault queues as {@code riscv_iommu_init()} does, writes device
 * contexts at probe, logs fault records from the fault queue's interrupt ({@link FaultQueueHandler}), and
 * sends its commands through {@link CommandQueue}.
 *
 * <p><b>Beyond mainline.</b> The merged driver has no page-request queue, no PASID, no IOPF and no SVA
 * (reference/linux-fault-stack.md §6.4). So that {@code hardware.model: riscv} can run the SVA path, the lab
 * adds them, modelled on the VT-d driver ({@code intel_iommu_enable_iopf()}, {@code intel_svm_set_dev_pasid()},
 * {@code prq_event_thread()}, {@code intel_iommu_page_response()}; the lab's {@code intel.IntelIommu} and
 * {@code intel.PrqHandler}) and on the RISC-V specification's programming guidelines: process directory
 * tables, process contexts for SVA domains with PRI enabled through io-pgfault ({@link PasidAttach}), the
 * page-request queue ({@link PageRequestHandler}), and {@code ATS.PRGR} page responses. Each such piece says
 * so where it is defined.
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
public final class RiscvIommuDriver implements IommuOps {

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

    private final RiscvIommuDevice iommu;
    private final DeviceDirectory directory;
    private final CommandQueue cmdq;
    private final HwQueue fltq;
    private final HwQueue priq;
    private final IopfQueue iopfQueue;
    private final PasidAttach pasids;
    private final RiscvSva sva;
    private final Map<Integer, RiscvDeviceInfo> devices = new HashMap<>();
    private int nextPscid = 1;
    private RiscvDomains domains;

    /**
     * Counterpart of riscv_iommu_platform_probe() and riscv_iommu_init(): checks the IOMMU is off or Bare,
     * selects MSIs, distributes interrupt vectors ({@code icvec}), allocates the DDT root and the queues,
     * enables the command and fault queues (and, beyond mainline, the page-request queue with an iopf queue
     * when the IOMMU has ATS), then sets {@code ddtp} to the deepest mode the IOMMU accepts and invalidates
     * its directory and translation caches. After a page-request queue overflow its thread applies
     * {@code recovery} (policy {@code iopf.overflow-recovery}); the fault-queue thread applies
     * {@link FaultOverflowRecovery#NONE} (the kernel's behaviour).
     *
     * @throws KernelException EBUSY if the IOMMU is already translating or a queue does not start, ENOMEM
     *                         when memory runs out, ENODEV when a queue base is not kept, EINVAL when no DDT
     *                         mode is accepted
     */
    public RiscvIommuDriver(RiscvIommu hw, QueueSizes sizes, FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                            TimingModel timing, KernelLog log, FaultEvents events, OverflowRecovery recovery) {
        this(hw, sizes, frames, iopf, loop, timing, log, events, recovery, FaultOverflowRecovery.NONE);
    }

    /**
     * The same, with {@code faultRecovery} (policy {@code fault.overflow-recovery}) applied by the fault-queue
     * thread after it cleared {@code fqof} or {@code fqmf}.
     */
    public RiscvIommuDriver(RiscvIommu hw, QueueSizes sizes, FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                            TimingModel timing, KernelLog log, FaultEvents events, OverflowRecovery recovery,
                            FaultOverflowRecovery faultRecovery) {
        this.iommu = new RiscvIommuDevice(hw, frames.memory(), loop, timing, log);
        initCheck();
        this.directory = new DeviceDirectory(frames);
        this.cmdq = new CommandQueue(iommu, HwQueue.commandQueue(hw));
        this.fltq = HwQueue.faultQueue(hw);
        this.priq = iommu.hasCap(RiscvRegs.CAP_ATS) ? HwQueue.pageRequestQueue(hw) : null;
        cmdq.queue().alloc(frames, DEFAULT_CQ_ENTRIES, iommu.devPrefix(), log);
        fltq.alloc(frames, sizes.fqEntries(), iommu.devPrefix(), log);
        if (priq != null) {
            priq.alloc(frames, sizes.pqEntries(), iommu.devPrefix(), log);
        }
        hw.setCommandQueueInterrupt(cmdq::irq);
        cmdq.queue().enable(iommu.devPrefix(), log);
        FaultQueueHandler faults = new FaultQueueHandler(iommu, fltq,
                () -> devices.values().stream().map(i -> i.pci).toList(), faultRecovery);
        hw.setFaultQueueInterrupt(faults::irq);
        fltq.enable(iommu.devPrefix(), log);
        PageRequestHandler requests = null;
        if (priq != null) {
            this.iopfQueue = iopf.queueAlloc(iommu.name);
            requests = new PageRequestHandler(iommu, priq, cmdq, devices, iopf, iopfQueue, events,
                    recovery);
            hw.setPageRequestInterrupt(requests::irq);
            priq.enable(iommu.devPrefix(), log);
        } else {
            this.iopfQueue = null;
        }
        iodirSetMode(DDTP_MODE_MAX);
        this.pasids = new PasidAttach(iommu, directory, cmdq, iopf, iopfQueue, requests, pqEntries());
        this.sva = new RiscvSva(iommu, cmdq, pasids);
    }

    /**
     * riscv_iommu_init_check() and the MSI branch of riscv_iommu_platform_probe(): {@code ddtp} must be Off or
     * Bare; {@code fctl.WSI} is cleared (MSIs); {@code icvec} maps CQ, FQ, PM, PQ to vectors 0-3.
     */
    private void initCheck() {
        long ddtp = iommu.hw.readReg(RiscvRegs.DDTP);
        if ((ddtp & RiscvRegs.DDTP_MODE_MASK) > RiscvRegs.DDTP_MODE_BARE) {
            iommu.devErr("unexpected device state");
            throw new KernelException(Errno.EBUSY, "ddtp", "the IOMMU is already translating");
        }
        long fctl = iommu.hw.readReg(RiscvRegs.FCTL);
        if ((fctl & RiscvRegs.FCTL_WSI) != 0) {
            iommu.hw.writeReg(RiscvRegs.FCTL, fctl ^ RiscvRegs.FCTL_WSI);
        }
        iommu.devInfo("using MSIs");
        iommu.hw.writeReg(RiscvRegs.ICVEC, 1 << 4 | 2 << 8 | 3 << 12);
    }

    /**
     * Counterpart of riscv_iommu_iodir_set_mode(): writes {@code ddtp} with the requested mode and the DDT
     * root, reads it back, and steps down (3LVL → 2LVL → 1LVL) while the WARL mode field falls back to Off or
     * Bare; then {@code IODIR.INVAL_DDT} (all), {@code IOTINVAL.VMA} (all) and {@code IOFENCE.C}.
     */
    private void iodirSetMode(int requested) {
        int rqMode = requested;
        while (true) {
            long rq = RiscvRegs.ddtp(rqMode, directory.root());
            iommu.hw.writeReg(RiscvRegs.DDTP, rq);
            int mode = (int) (iommu.hw.readReg(RiscvRegs.DDTP) & RiscvRegs.DDTP_MODE_MASK);
            if (mode == rqMode) {
                break;
            }
            if (mode < RiscvRegs.DDTP_MODE_1LVL && rqMode > RiscvRegs.DDTP_MODE_1LVL) {
                rqMode--;
                continue;
            }
            iommu.devErr("DDTP hw mode %d, failed to set %d", mode, requested);
            throw new KernelException(Errno.EINVAL, "ddtp", "no device directory mode accepted");
        }
        directory.setMode(rqMode);
        iommu.trace("riscv_iommu_iodir_set_mode", "ddtp mode %d, DDT root %#x", rqMode, directory.root());
        cmdq.sendAndSync(RiscvCommand.iodirInvalDdt(false, 0),
                RiscvCommand.iotinvalVma(false, 0, false, 0, false, 0));
    }

    @Override
    public String name() {
        return iommu.name;
    }

    /** The iopf queue of the page-request queue, or null when the IOMMU has no ATS. */
    public IopfQueue iopfQueue() {
        return iopfQueue;
    }

    /** Slots of the page-request queue (0 without one); also the PRI allocation each device gets. */
    public int pqEntries() {
        return priq == null ? 0 : priq.slots();
    }

    /** Slots of the fault queue (it holds one record fewer). */
    public int fqEntries() {
        return fltq.slots();
    }

    private RiscvDeviceInfo info(Device dev) {
        RiscvDeviceInfo info = devices.get(dev.rid());
        if (info == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " is not behind " + iommu.name);
        }
        return info;
    }

    /**
     * Counterpart of riscv_iommu_probe_device(), with the lab's PASID support: writes the device context
     * described in the class comment (fields first, {@code tc} last), invalidates it ({@code IODIR.INVAL_DDT},
     * {@code IOFENCE.C}) and enables PASID and ATS on a function that got a valid context.
     *
     * @throws KernelException EBUSY if already probed, ENODEV if the requester ID does not fit the DDT mode,
     *                         ENOMEM when a table cannot be allocated
     */
    @Override
    public void probeDevice(Device dev, PcieEndpoint pci) {
        if (devices.containsKey(dev.rid())) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " already probed");
        }
        long dc = directory.dcAddress(dev.rid());
        if (dc < 0) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " does not fit ddtp mode " + directory.mode());
        }
        int pdtMode = dev.maxPasids() > 0 ? DeviceDirectory.pdtMode(pci.config().pasidBits(), iommu.caps) : 0;
        long sade = iommu.hasCap(RiscvRegs.CAP_AMO_HWAD) ? RiscvDeviceContext.TC_SADE : 0;
        RiscvDeviceInfo info;
        if (pdtMode == RiscvDeviceContext.MODE_BARE) {
            new RiscvDeviceContext(sade, 0, 0, 0).writeTo(iommu.memory, dc);
            info = new RiscvDeviceInfo(dev, pci, dc, 0, 0, false);
        } else {
            long pdt = directory.allocPdt();
            boolean ats = pci.config().ats() && iommu.hasCap(RiscvRegs.CAP_ATS);
            boolean pri = ats && pci.config().pri();
            long tc = RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_PDTV | RiscvDeviceContext.TC_DPE | sade
                    | (ats ? RiscvDeviceContext.TC_EN_ATS : 0) | (pri ? RiscvDeviceContext.TC_EN_PRI : 0)
                    | (pri && pci.prgResponsePasidRequired() ? RiscvDeviceContext.TC_PRPR : 0);
            writeDc(dc, new RiscvDeviceContext(tc, 0, 0, RiscvDeviceContext.encodeAtp(pdtMode, pdt)));
            cmdq.sendAndSync(RiscvCommand.iodirInvalDdt(true, dev.rid()));
            pci.setPasidEnabled(true);
            pci.setAtsEnabled(ats);
            info = new RiscvDeviceInfo(dev, pci, dc, pdt, pdtMode, pri);
        }
        devices.put(dev.rid(), info);
        iommu.trace("riscv_iommu_probe_device", "%s devid %04x: DC at %#x tc %#x, %s", dev.name(), dev.rid(), dc,
                iommu.memory.readLong(dc), info.pdt == 0 ? "not valid (blocked)"
                        : String.format("PDT PD%d at %#x", DeviceDirectory.pdtBits(pdtMode), info.pdt));
    }

    /** Writes {@code iohgatp}, {@code ta} and {@code fsc}, then {@code tc} ("write TC.V as the last step"). */
    private void writeDc(long at, RiscvDeviceContext dc) {
        iommu.memory.writeLong(at + 8, dc.iohgatp());
        iommu.memory.writeLong(at + 16, dc.ta());
        iommu.memory.writeLong(at + 24, dc.fsc());
        iommu.memory.writeLong(at, dc.tc());
    }

    /**
     * {@code domain_alloc_sva}. <b>Not in mainline</b> (no SVA); modelled on the kernel's paging domains: each
     * domain gets a PSCID from {@code 1..RISCV_IOMMU_MAX_PSCID} ({@code riscv_iommu_pscids}), which tags its
     * IOTLB entries, and registers an mm notifier on {@code mm} ({@link RiscvSva}).
     *
     * @throws KernelException ENODEV for a device not behind this IOMMU, ENOSPC when PSCIDs run out
     */
    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        info(dev);
        IommuDomain domain = new IommuDomain(DomainType.SVA, this, mm);
        domain.setDriverData(allocPscid());
        sva.register(domain);
        return domain;
    }

    /**
     * The free op of an SVA domain (not in mainline): its mm notifier is put ({@link RiscvSva}). Other domains need
     * nothing here.
     */
    @Override
    public void domainFree(IommuDomain domain) {
        if (domain.type() == DomainType.SVA) {
            sva.unregister(domain);
        }
    }

    /** A PSCID from {@code riscv_iommu_pscids}, 1..RISCV_IOMMU_MAX_PSCID; ENOSPC when they run out. */
    int allocPscid() {
        if (nextPscid > MAX_PSCID) {
            throw new KernelException(Errno.ENOSPC, "pscid", "no PSCID left");
        }
        return nextPscid++;
    }

    private RiscvDomains domains() {
        if (domains == null) {
            domains = new RiscvDomains(this, iommu, directory, cmdq, pasids);
        }
        return domains;
    }

    /** {@code riscv_iommu_blocking_domain}; see {@link RiscvDomains}. */
    @Override
    public IommuDomain blockedDomain() {
        return domains().blocked;
    }

    /** {@code riscv_iommu_identity_domain}; see {@link RiscvDomains}. */
    @Override
    public IommuDomain identityDomain() {
        return domains().identity;
    }

    /** Counterpart of riscv_iommu_alloc_paging_domain(); see {@link RiscvDomains#allocPaging}. */
    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        info(dev);
        return domains().allocPaging(flags);
    }

    /**
     * The attach_dev of the blocking, identity and paging domains; beyond mainline, a fault-capable paging domain
     * enables IOPF and the blocking domain drops it, as on VT-d; see {@link RiscvDomains}.
     */
    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        domains().attachDev(domain, info(dev));
    }

    /** Counterpart of riscv_iommu_iotlb_sync(); see {@link RiscvDomains#iotlbSync}. */
    @Override
    public void iotlbSync(IommuDomain domain, IotlbGather gather) {
        domains().iotlbSync(domain, gather);
    }

    /**
     * Counterpart of riscv_iommu_capable(): cache coherency only. Mainline does not claim
     * IOMMU_CAP_DEFERRED_FLUSH, so a DMA_FQ domain falls back to strict invalidation (iommu_dma_init_domain()).
     */
    @Override
    public boolean capable(Device dev, IommuCap cap) {
        return cap == IommuCap.CACHE_COHERENCY;
    }

    /** Counterpart of riscv_iommu_iotlb_flush_all(). */
    @Override
    public void flushIotlbAll(IommuDomain domain) {
        domains().flushAll(domain);
    }

    /**
     * Replace at a PASID (not in mainline): non-SVA domains only, the new domain's IOPF enabled before the old one's
     * is dropped; see {@link RiscvDomains#setDevPasid}.
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        if (domain.type() == DomainType.SVA || old.type() == DomainType.SVA) {
            throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
        }
        domains().setDevPasid(domain, info(dev), pasid, old);
    }

    /**
     * {@code set_dev_pasid}. <b>Not in mainline</b>; see {@link PasidAttach#setDevPasid} for an SVA domain and
     * {@link RiscvDomains#setDevPasid} for the others (IOPF for a fault-capable one).
     *
     * @throws KernelException EINVAL when the device has no PDT (or, for SVA, PASID or ATS) or {@code pasid} is
     *                         beyond its PDT, ENODEV for a fault-capable non-SVA domain on a function without PRI,
     *                         ENOMEM when a PDT level cannot be allocated (IOPF is then disabled again)
     */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        if (domain.type() != DomainType.SVA) {
            domains().setDevPasid(domain, info(dev), pasid, null);
            return;
        }
        pasids.setDevPasid(info(dev), domain, pasid);
        sva.attached(domain, info(dev), pasid);
    }

    /** The blocked domain at a PASID. <b>Not in mainline</b>; see {@link PasidAttach#removeDevPasid}. */
    @Override
    public void removeDevPasid(Device dev, int pasid, IommuDomain domain) {
        if (domain.type() != DomainType.SVA) {
            domains().removeDevPasid(info(dev), pasid, domain);
            return;
        }
        pasids.removeDevPasid(info(dev), pasid, domain);
        sva.detached(domain, info(dev), pasid);
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
