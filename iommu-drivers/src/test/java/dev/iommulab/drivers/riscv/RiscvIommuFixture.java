package dev.iommulab.drivers.riscv;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import java.util.ArrayList;
import java.util.List;

/**
 * A small machine around one {@link RiscvIommuDriver}, wired by hand the way the lab's {@code Machine} does
 * it through Guice: event loop, 256 MiB of memory, PCIe fabric, a RISC-V IOMMU model, the page allocator,
 * kernel log, fault observation points, IOMMU core, io-pgfault, the driver, and one SVA accelerator (ATS +
 * PRI + 20 PASID bits) probed through {@link IommuCore#probeDevice}. The SVA domain of one process (Sv48 page
 * tables) is ready for {@link #attach()}; its fault handler records every group and, unless {@link #answer}
 * is null, answers it from the iopf workqueue as {@code iommu_sva_handle_iopf()} would.
 *
 * <p>Everything the tests assert on is observable from outside the driver: PRG responses at the function,
 * commands in the command queue, bytes of the device and process contexts in memory (found from
 * {@code ddtp} the way the IOMMU finds them), the IOMMU's registers, the kernel log, faults seen by
 * io-pgfault, and the model's fault observer.
 */
final class RiscvIommuFixture {

    /** The PSCID the driver gave {@code domain}, a paging or SVA domain (its typed {@link RiscvDomain}). */
    static int pscid(IommuDomain domain) {
        return domain.ops() instanceof RiscvPagingDomain paging ? paging.pscid()
                : ((RiscvSvaDomain) domain.ops()).pscid();
    }

    /** Requester 03:00.0 = device_id 0x0300. */
    static final int RID = 0x0300;
    /** PASID[19:17] = 0, PASID[16:8] = 0x12, PASID[7:0] = 0x34: a second- and leaf-level entry other than 0. */
    static final int PASID = 0x1234;
    static final int PASID_BITS = 20;
    static final long VA = 0x0000_7f12_3456_0000L;
    static final long MEMORY_BYTES = 256L << 20;
    static final long FIRST_FRAME = 1L << 20;
    static final int PRI_CAPACITY = 32;

    /** A page response the driver was asked to send (FaultEvents.pageResponse), with who decided it. */
    record Answer(IommuFault evt, PageResponse response, ResponseOrigin origin) {
    }

    /** A fault io-pgfault received (FaultEvents.faultReported) and what iommu_report_device_fault() returned. */
    record Report(IommuFault fault, int ret) {
    }

    final EventLoop loop = new EventLoop(42);
    final TimingModel timing = TimingModel.ESTIMATES;
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES);
    final PcieFabric fabric = new PcieFabric(loop, timing.pcieTlpNs());
    final List<HwFault> hwFaults = new ArrayList<>();
    final RiscvIommu hw;
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, FIRST_FRAME, failures);
    final KernelLog log = new KernelLog(loop);
    final FaultEvents events = new FaultEvents();
    final List<Report> reports = new ArrayList<>();
    final List<Answer> answers = new ArrayList<>();
    final IommuCore core = new IommuCore();
    final Iopf iopf = new Iopf(core, loop, timing, events, failures, log);
    final RiscvIommuDriver driver;
    final PcieEndpoint endpoint;
    final List<PrgResponse> prgResponses = new ArrayList<>();
    final Device dev;
    final MmStruct mm;
    final IommuDomain domain;
    final List<IopfGroup> groups = new ArrayList<>();
    /** What the handler answers each group with; null leaves groups unanswered. */
    PageResponseCode answer = PageResponseCode.SUCCESS;

    RiscvIommuFixture() {
        this(RiscvConfig.defaults("riscv-iommu0"), RiscvIommuDriver.QueueSizes.DEFAULTS, EndpointOptions.DEFAULTS);
    }

    /** A machine with the IOMMU {@code config}, the driver's {@code sizes} and the accelerator's {@code options}. */
    RiscvIommuFixture(RiscvConfig config, RiscvIommuDriver.QueueSizes sizes, EndpointOptions options) {
        this(config, sizes, options, OverflowRecovery.DISCARD_PARTIALS);
    }

    /** The same with the driver's {@code iopf.overflow-recovery} policy. */
    RiscvIommuFixture(RiscvConfig config, RiscvIommuDriver.QueueSizes sizes, EndpointOptions options,
                      OverflowRecovery recovery) {
        this(config, sizes, options, recovery, FaultOverflowRecovery.NONE);
    }

    /** The same with the driver's {@code fault.overflow-recovery} policy. */
    RiscvIommuFixture(RiscvConfig config, RiscvIommuDriver.QueueSizes sizes, EndpointOptions options,
                      OverflowRecovery recovery, FaultOverflowRecovery faultRecovery) {
        hw = new RiscvIommu(config, memory, loop, timing, fabric, hwFaults::add);
        driver = new RiscvIommuDriver(hw, sizes,
                new DriverServices(frames, iopf, loop, timing, log, events, recovery, faultRecovery));
        events.addListener(new FaultEvents.Listener() {
            @Override
            public void faultReported(Device d, IommuFault fault, int ret) {
                reports.add(new Report(fault, ret));
            }

            @Override
            public void pageResponse(Device d, IommuFault evt, PageResponse response, ResponseOrigin origin) {
                answers.add(new Answer(evt, response, origin));
            }
        });
        endpoint = addEndpoint(new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, PASID_BITS,
                PRI_CAPACITY, 64, 16, options));
        endpoint.addPrgResponseListener(prgResponses::add);
        dev = core.probeDevice(endpoint, driver);
        mm = new MmStruct("proc", frames, frames.allocate(), CpuPageTable.riscvSv48(memory));
        domain = driver.domainAllocSva(dev, mm);
        domain.setIopfHandler(this::handle);
    }

    /** A function on the fabric, connected to the IOMMU (not probed). */
    PcieEndpoint addEndpoint(EndpointConfig config) {
        PcieEndpoint ep = new PcieEndpoint(config, loop, timing);
        ep.connect(hw);
        fabric.attach(ep);
        return ep;
    }

    /** A function without ATS or PRI, with {@code pasidBits} PASID bits, of {@code profile}, probed. */
    PcieEndpoint probePlain(String name, int rid, DeviceProfile profile, int pasidBits) {
        PcieEndpoint ep = addEndpoint(new EndpointConfig(name, rid, profile, false, false, pasidBits, 1, 0, 1));
        core.probeDevice(ep, driver);
        return ep;
    }

    /** Attaches the SVA domain at {@link #PASID} (iommu_attach_device_pasid()). */
    RiscvIommuFixture attach() {
        core.attachDevicePasid(domain, dev, PASID, new AttachHandle(domain));
        return this;
    }

    /**
     * A new UNMANAGED paging domain for the accelerator (iommu_paging_domain_alloc()) made fault-capable as
     * iommufd makes a HWPT allocated with a fault object: its {@code iopf_handler} is this fixture's recording
     * handler (which answers with {@link #answer}, or leaves groups owed when it is null).
     */
    IommuDomain faultCapablePaging() {
        IommuDomain paging = core.pagingDomainAlloc(dev);
        paging.setIopfHandler(this::handle);
        return paging;
    }

    private int handle(IopfGroup group) {
        groups.add(group);
        PageResponseCode code = answer;
        if (code != null) {
            group.queueWork("test-iopf-handler", () -> {
                iopf.groupResponse(group, code);
                iopf.freeGroup(group);
            });
        }
        return 0;
    }

    // ---- traffic ----

    /** A page request with PASID {@link #PASID}: read/write as given, no exec, not privileged. */
    static PageRequestMessage request(int prgi, boolean read, boolean write, boolean last, long addr) {
        return new PageRequestMessage(RID, true, PASID, false, false, read, write, last, prgi, addr);
    }

    /** A PASID Stop Marker for {@link #PASID}. */
    static PageRequestMessage stopMarker() {
        return new PageRequestMessage(RID, true, PASID, false, false, false, false, true, 0, 0);
    }

    /** The function sends every message (as its PRI would, within credits), then the machine settles. */
    void send(PageRequestMessage... messages) {
        for (PageRequestMessage m : messages) {
            endpoint.sendPageRequest(m, null);
        }
        loop.runUntilIdle();
    }

    /**
     * The accelerator starts {@code job} and the machine settles; the list gets its outcome when the job ends
     * (it stays empty while the job waits for a page response).
     */
    List<DmaOutcome> startDma(DmaJob job) {
        List<DmaOutcome> out = new ArrayList<>();
        endpoint.startDma(job, out::add);
        loop.runUntilIdle();
        return out;
    }

    /** {@code ep} reads {@code size} bytes at {@code addr} (no PASID); the machine settles. */
    DmaOutcome read(PcieEndpoint ep, long addr, int size) {
        List<DmaOutcome> out = new ArrayList<>();
        ep.startDma(new DmaJob(addr, size, Access.READ, -1, false, null), out::add);
        loop.runUntilIdle();
        return out.get(0);
    }

    // ---- memory: device directory, process directory ----

    /** Physical address of the device context of {@code devid}, walked from {@code ddtp} (3LVL, base format). */
    long dcAddress(int devid) {
        long ddtp = hw.readReg(RiscvRegs.DDTP);
        if ((ddtp & RiscvRegs.DDTP_MODE_MASK) != RiscvRegs.DDTP_MODE_3LVL) {
            throw new AssertionError("ddtp mode is not 3LVL: " + ddtp);
        }
        long table = RiscvRegs.ppnAddress(ddtp);
        table = nonLeaf(table + 8L * (devid >>> 16 & 0xff), "DDT level 3");
        table = nonLeaf(table + 8L * (devid >>> 7 & 0x1ff), "DDT level 2");
        return table + (long) RiscvDeviceContext.SIZE * (devid & 0x7f);
    }

    RiscvDeviceContext dc(int devid) {
        return RiscvDeviceContext.readFrom(memory, dcAddress(devid));
    }

    /** Physical address of the process context of {@code pasid} of {@link #RID}, walked from its DC. */
    long pcAddress(int pasid) {
        RiscvDeviceContext dc = dc(RID);
        long table = dc.fscRoot();
        int[] shift = {0, 8, 17};
        for (int level = dc.fscMode() - 1; level > 0; level--) {
            table = nonLeaf(table + 8L * (pasid >>> shift[level] & 0x1ff), "PDT level " + (level + 1));
        }
        return table + (long) RiscvProcessContext.SIZE * (pasid & 0xff);
    }

    RiscvProcessContext pc(int pasid) {
        return RiscvProcessContext.readFrom(memory, pcAddress(pasid));
    }

    private long nonLeaf(long entryAddr, String what) {
        long entry = memory.readLong(entryAddr);
        if ((entry & RiscvDeviceContext.NON_LEAF_V) == 0) {
            throw new AssertionError(what + " entry not valid");
        }
        return RiscvRegs.ppnAddress(entry);
    }

    // ---- memory: page-request queue ----

    /** The page-request record in slot {@code slot} of the queue at {@code pqb}, as the IOMMU wrote it. */
    RiscvPageRequestRecord pqRecord(int slot) {
        long base = RiscvRegs.ppnAddress(hw.readReg(RiscvRegs.PQB));
        return RiscvPageRequestRecord.readFrom(memory, base + (long) slot * RiscvRegs.PQ_ENTRY_SIZE);
    }

    // ---- memory: command queue ----

    /** Every command the driver has written, oldest first: slots 0 to {@code cqt} (the ring has not wrapped). */
    List<RiscvCommand> commands() {
        long base = RiscvRegs.ppnAddress(hw.readReg(RiscvRegs.CQB));
        long tail = hw.readReg(RiscvRegs.CQT);
        List<RiscvCommand> found = new ArrayList<>();
        for (long i = 0; i < tail; i++) {
            found.add(RiscvCommand.readFrom(memory, base + i * RiscvRegs.CQ_ENTRY_SIZE));
        }
        return found;
    }

    /** The commands with {@code opcode} and {@code func3}. */
    List<RiscvCommand> commands(int opcode, int func3) {
        return commands().stream().filter(c -> c.opcode() == opcode && c.func3() == func3).toList();
    }

    /** The {@code ATS.PRGR} commands. */
    List<RiscvCommand> prgrCommands() {
        return commands(RiscvCommand.OPCODE_ATS, RiscvCommand.FUNC3_ATS_PRGR);
    }

    // ---- kernel log ----

    List<String> logTexts() {
        return log.lines().stream().map(KernelLog.Line::text).toList();
    }

    List<String> errTexts() {
        return log.lines().stream().filter(l -> l.level() == KernelLog.Level.ERR).map(KernelLog.Line::text).toList();
    }

    List<String> warnTexts() {
        return log.lines().stream().filter(l -> l.level() == KernelLog.Level.WARNING).map(KernelLog.Line::text)
                .toList();
    }
}
