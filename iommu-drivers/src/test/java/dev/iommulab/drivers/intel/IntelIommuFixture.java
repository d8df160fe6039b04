package dev.iommulab.drivers.intel;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
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
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfPolicies;
import java.util.ArrayList;
import java.util.List;

/**
 * A small machine around one {@link IntelIommu}, wired by hand the way the lab's {@code Machine} does it
 * through Guice: event loop, 256 MiB of memory, PCIe fabric, a VT-d unit, the page allocator, kernel log,
 * fault observation points, IOMMU core, io-pgfault, the driver, and one SVA accelerator (ATS + PRI +
 * 20 PASID bits) probed through {@link IommuCore#probeDevice}. The SVA domain of one process is ready
 * for {@link #attach()}; its fault handler records every group and, unless {@link #answer} is null,
 * answers it from the iopf workqueue as {@code iommu_sva_handle_iopf()} would.
 *
 * <p>Everything the tests assert on is observable from outside the driver: PRG responses at the
 * function, descriptors in the invalidation queue, bytes of the translation structures in memory,
 * the kernel log, faults seen by io-pgfault, and the hardware's fault observer.
 */
final class IntelIommuFixture {

    /** Requester 03:00.0. */
    static final int RID = 0x0300;
    /** PASID[19:6] = 0x48 picks a directory entry other than the first; PASID[5:0] = 0x34. */
    static final int PASID = 0x1234;
    static final int PASID_BITS = 20;
    static final long VA = 0x0000_7f12_3456_0000L;
    static final long MEMORY_BYTES = 256L << 20;
    static final long FIRST_FRAME = 1L << 20;
    static final int DEFAULT_PRI_CAPACITY = 32;

    /** A page response the driver was asked to send (FaultEvents.pageResponse), with who decided it. */
    record Answer(IommuFault evt, PageResponse response, ResponseOrigin origin) {
    }

    /** A fault io-pgfault received (FaultEvents.faultReported) and what iommu_report_device_fault() returned. */
    record Report(IommuFault fault, int ret) {
    }

    final EventLoop loop = new EventLoop(42);
    final TimingModel timing;
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES);
    final PcieFabric fabric;
    final List<HwFault> hwFaults = new ArrayList<>();
    final VtdUnit unit;
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, FIRST_FRAME, failures);
    final KernelLog log = new KernelLog(loop);
    final FaultEvents events = new FaultEvents();
    final List<Report> reports = new ArrayList<>();
    final List<Answer> answers = new ArrayList<>();
    final IommuCore core = new IommuCore();
    final Iopf iopf;
    final IntelIommu intel;
    final PcieEndpoint endpoint;
    final List<PrgResponse> prgResponses = new ArrayList<>();
    final Device dev;
    final MmStruct mm;
    final IommuDomain domain;
    final List<IopfGroup> groups = new ArrayList<>();
    /** What the handler answers each group with; null leaves groups unanswered. */
    PageResponseCode answer = PageResponseCode.SUCCESS;

    IntelIommuFixture() {
        this(DEFAULT_PRI_CAPACITY);
    }

    /** @param priCapacity the function's Outstanding Page Request Capacity */
    IntelIommuFixture(int priCapacity) {
        this(priCapacity, VtdConfig.defaults("dmar0"));
    }

    /** A machine whose VT-d unit has {@code config}. */
    IntelIommuFixture(int priCapacity, VtdConfig config) {
        this(priCapacity, config, KernelVersion.LATEST, OverflowRecovery.DISCARD_PARTIALS);
    }

    /** A machine following {@code kernel} whose PRQ thread recovers from overflow with {@code recovery}. */
    IntelIommuFixture(int priCapacity, VtdConfig config, KernelVersion kernel, OverflowRecovery recovery) {
        this(priCapacity, config, kernel, recovery, FaultOverflowRecovery.NONE, TimingModel.ESTIMATES);
    }

    /** The same, whose fault event handler recovers from PFO with {@code faultRecovery}. */
    IntelIommuFixture(int priCapacity, VtdConfig config, KernelVersion kernel, OverflowRecovery recovery,
                      FaultOverflowRecovery faultRecovery) {
        this(priCapacity, config, kernel, recovery, faultRecovery, TimingModel.ESTIMATES);
    }

    /** The same with {@code timing} instead of the estimates. */
    IntelIommuFixture(int priCapacity, VtdConfig config, KernelVersion kernel, OverflowRecovery recovery,
                      TimingModel timing) {
        this(priCapacity, config, kernel, recovery, FaultOverflowRecovery.NONE, timing);
    }

    private IntelIommuFixture(int priCapacity, VtdConfig config, KernelVersion kernel, OverflowRecovery recovery,
                              FaultOverflowRecovery faultRecovery, TimingModel timing) {
        this.timing = timing;
        this.fabric = new PcieFabric(loop, timing.pcieTlpNs());
        iopf = new Iopf(core, loop, timing, events, failures, log, IopfPolicies.kernel(failures).withKernel(kernel));
        unit = new VtdUnit(config, memory, loop, timing, fabric, hwFaults::add);
        intel = new IntelIommu("dmar0", unit,
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
        endpoint = new PcieEndpoint(new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, PASID_BITS,
                priCapacity, 64, 16), loop, timing);
        endpoint.connect(unit);
        fabric.attach(endpoint);
        endpoint.addPrgResponseListener(prgResponses::add);
        dev = core.probeDevice(endpoint, intel);
        mm = new MmStruct("proc", frames, frames.allocate());
        domain = intel.domainAllocSva(dev, mm);
        domain.setIopfHandler(this::handle);
    }

    /** Attaches the SVA domain at {@link #PASID} (iommu_attach_device_pasid()). */
    IntelIommuFixture attach() {
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

    /** The function sends every message (as its PRI would, within credits), then the machine settles. */
    void send(PageRequestMessage... messages) {
        for (PageRequestMessage m : messages) {
            endpoint.sendPageRequest(m, null);
        }
        loop.runUntilIdle();
    }

    // ---- memory: translation structures ----

    /** Physical address of the device's scalable context entry, found from RTADDR through the root entry. */
    long contextEntryAddress() {
        long rootTable = unit.readReg(VtdRegs.RTADDR) & VtdEntries.ADDR_MASK;
        int devfn = RID & 0xff;
        long rootEntry = rootTable + (long) (RID >>> 8) * VtdEntries.ROOT_ENTRY_SIZE + (devfn >= 0x80 ? 8 : 0);
        long root = memory.readLong(rootEntry);
        if ((root & VtdEntries.PRESENT) == 0) {
            throw new AssertionError("root entry of bus " + (RID >>> 8) + " not present");
        }
        return (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
    }

    long contextLo() {
        return memory.readLong(contextEntryAddress());
    }

    /** Physical address of the 64-byte PASID entry of {@code pasid}: context → PASID directory → table. */
    long pasidEntryAddress(int pasid) {
        long pasidDir = contextLo() & VtdEntries.ADDR_MASK;
        long pde = memory.readLong(pasidDir + (long) (pasid >>> 6) * VtdEntries.PASID_DIR_ENTRY_SIZE);
        if ((pde & VtdEntries.PRESENT) == 0) {
            throw new AssertionError("PASID directory entry of PASID " + pasid + " not present");
        }
        return (pde & VtdEntries.ADDR_MASK) + (long) (pasid & 0x3f) * VtdEntries.PASID_ENTRY_SIZE;
    }

    /** The eight qwords of the PASID entry of {@code pasid}, as the unit would read them. */
    long[] pasidEntry(int pasid) {
        long pe = pasidEntryAddress(pasid);
        long[] qw = new long[VtdEntries.PASID_ENTRY_SIZE / 8];
        for (int i = 0; i < qw.length; i++) {
            qw[i] = memory.readLong(pe + 8L * i);
        }
        return qw;
    }

    // ---- memory: page request queue ----

    /** The page request descriptor in ring slot {@code slot} (PQA's base), as the unit wrote it. */
    PageRequestDescriptor prqDescriptor(int slot) {
        long ring = unit.readReg(VtdRegs.PQA) & VtdEntries.ADDR_MASK;
        return PageRequestDescriptor.readFrom(memory, ring + (long) slot * VtdRegs.DESC_SIZE);
    }

    // ---- memory: invalidation queue ----

    /**
     * The page group response descriptors (type 0x9) the driver has written to the invalidation queue,
     * oldest first. Reads the ring from slot 0 to IQT, so it assumes the ring has not wrapped.
     */
    List<QiDescriptor> pageGroupResponseDescriptors() {
        long base = unit.readReg(VtdRegs.IQA) & VtdEntries.ADDR_MASK;
        long tail = unit.readReg(VtdRegs.IQT);
        List<QiDescriptor> found = new ArrayList<>();
        for (long at = 0; at < tail; at += VtdRegs.DESC_SIZE) {
            QiDescriptor d = new QiDescriptor(memory.readLong(base + at), memory.readLong(base + at + 8),
                    memory.readLong(base + at + 16), memory.readLong(base + at + 24));
            if (d.type() == QiDescriptor.TYPE_PAGE_GROUP_RESPONSE) {
                found.add(d);
            }
        }
        return found;
    }

    // ---- kernel log ----

    List<String> logTexts() {
        return log.lines().stream().map(KernelLog.Line::text).toList();
    }

    List<String> errTexts() {
        return log.lines().stream().filter(l -> l.level() == KernelLog.Level.ERR).map(KernelLog.Line::text).toList();
    }
}
