package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.DriverUnit;
import dev.iommulab.drivers.IopfRefcount;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.iopf.IopfQueue;

/**
 * The driver's state of one RISC-V IOMMU, built by riscv_iommu_init() before anything else uses it: the register
 * window and messages ({@link RiscvIommuDevice}), the device directory, the command, fault and (beyond mainline)
 * page-request queues with their interrupt threads, the probed devices ({@code struct riscv_iommu_info}) and the
 * PSCID allocator. {@link PasidAttach}, {@link RiscvDomains} and the domains are built on it; {@link RiscvIommuDriver}
 * is the ops table over it.
 */
final class RiscvUnit extends DriverUnit<RiscvDeviceInfo> {

    private final RiscvIommuDevice iommu;
    private final DeviceDirectory directory;
    private final CommandQueue cmdq;
    private final HwQueue fltq;
    private final HwQueue priq;
    private final IopfQueue iopfQueue;
    private final IopfRefcount iopfRefs;
    /** The page-request thread; null without a page-request queue. */
    private final PageRequestHandler requests;
    private int nextPscid = 1;

    /**
     * What riscv_iommu_platform_probe() and riscv_iommu_init() set up; see the {@link RiscvIommuDriver} constructor.
     */
    RiscvUnit(RiscvIommu hw, RiscvIommuDriver.QueueSizes sizes, DriverServices services) {
        super(services);
        FrameAllocator frames = services.frames();
        KernelLog log = services.log();
        this.iommu = new RiscvIommuDevice(hw, services.memory(), services.loop(), services.timing(), log);
        initCheck();
        this.directory = new DeviceDirectory(frames);
        this.cmdq = new CommandQueue(iommu, HwQueue.commandQueue(hw));
        this.fltq = HwQueue.faultQueue(hw);
        this.priq = iommu.hasCap(RiscvRegs.CAP_ATS) ? HwQueue.pageRequestQueue(hw) : null;
        cmdq.queue().alloc(frames, RiscvIommuDriver.DEFAULT_CQ_ENTRIES, iommu.devPrefix(), log);
        fltq.alloc(frames, sizes.fqEntries(), iommu.devPrefix(), log);
        if (priq != null) {
            priq.alloc(frames, sizes.pqEntries(), iommu.devPrefix(), log);
        }
        hw.setCommandQueueInterrupt(cmdq::irq);
        cmdq.queue().enable(iommu.devPrefix(), log);
        FaultQueueHandler faults = new FaultQueueHandler(iommu, fltq, this::endpoints, services.faultRecovery());
        hw.setFaultQueueInterrupt(faults::irq);
        fltq.enable(iommu.devPrefix(), log);
        if (priq != null) {
            this.iopfQueue = services.iopf().queueAlloc(iommu.name);
            this.requests = new PageRequestHandler(iommu, priq, cmdq, this, iopfQueue);
            hw.setPageRequestInterrupt(requests::irq);
            priq.enable(iommu.devPrefix(), log);
        } else {
            this.iopfQueue = null;
            this.requests = null;
        }
        this.iopfRefs = new IopfRefcount(services.iopf(), iopfQueue, pqEntries());
        iodirSetMode(RiscvIommuDriver.DDTP_MODE_MAX);
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

    RiscvIommuDevice iommu() {
        return iommu;
    }

    DeviceDirectory directory() {
        return directory;
    }

    CommandQueue cmdq() {
        return cmdq;
    }

    /** The iopf queue of the page-request queue, or null when the IOMMU has no ATS. */
    IopfQueue iopfQueue() {
        return iopfQueue;
    }

    /**
     * IOPF of fault-capable attachments, as the VT-d driver's intel_iommu_enable_iopf() and iopf_for_domain_set() do
     * it (not in mainline): ENODEV for a function whose device context has no {@code EN_PRI}, otherwise PRI with an
     * allocation of the page-request queue's size (as VT-d gives each device its PRQ depth).
     */
    IopfRefcount iopfRefs() {
        return iopfRefs;
    }

    /** The page-request thread, or null without a page-request queue. */
    PageRequestHandler requests() {
        return requests;
    }

    /** Slots of the page-request queue (0 without one); also the PRI allocation each device gets. */
    int pqEntries() {
        return priq == null ? 0 : priq.slots();
    }

    /** Slots of the fault queue (it holds one record fewer). */
    int fqEntries() {
        return fltq.slots();
    }

    /** A PSCID from {@code riscv_iommu_pscids}, 1..RISCV_IOMMU_MAX_PSCID; ENOSPC when they run out. */
    int allocPscid() {
        if (nextPscid > RiscvIommuDriver.MAX_PSCID) {
            throw new KernelException(Errno.ENOSPC, "pscid", "no PSCID left");
        }
        return nextPscid++;
    }

    /**
     * Counterpart of riscv_iommu_probe_device(), with the lab's PASID support: writes the device context
     * described in {@link RiscvIommuDriver} (fields first, {@code tc} last), invalidates it ({@code IODIR.INVAL_DDT},
     * {@code IOFENCE.C}) and enables PASID and ATS on a function that got a valid context.
     *
     * @throws KernelException ENODEV if the requester ID does not fit the DDT mode, ENOMEM when a table cannot be
     *                         allocated (EBUSY if already probed: {@link DriverUnit#probeDevice})
     */
    @Override
    protected RiscvDeviceInfo probe(Device dev, PcieEndpoint pci) {
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
        iommu.trace("riscv_iommu_probe_device", "%s devid %04x: DC at %#x tc %#x, %s", dev.name(), dev.rid(), dc,
                iommu.memory.readLong(dc), info.pdt == 0 ? "not valid (blocked)"
                        : String.format("PDT PD%d at %#x", DeviceDirectory.pdtBits(pdtMode), info.pdt));
        return info;
    }

    /** Writes {@code iohgatp}, {@code ta} and {@code fsc}, then {@code tc} ("write TC.V as the last step"). */
    private void writeDc(long at, RiscvDeviceContext dc) {
        iommu.memory.writeLong(at + 8, dc.iohgatp());
        iommu.memory.writeLong(at + 16, dc.ta());
        iommu.memory.writeLong(at + 24, dc.fsc());
        iommu.memory.writeLong(at, dc.tc());
    }
}
