package dev.iommulab.sva;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.GlobalPasidAllocator;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.fixtures.RecordingIommuOps;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfQueue;
import java.util.ArrayList;
import java.util.List;

/** Core + io-pgfault + SVA over a recording driver, with real process memory and one iopf queue. */
final class SvaFixture {

    static final long RW_VA = 0x4000_0000L;
    static final long RO_VA = 0x5000_0000L;
    static final long UNMAPPED_VA = 0x6000_0000L;

    final EventLoop loop = new EventLoop(7);
    final PhysicalMemory memory = new PhysicalMemory(32L << 20);
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    final long zeroPage = frames.allocate();
    final IommuCore core = new IommuCore();
    final GlobalPasidAllocator pasids = new GlobalPasidAllocator();
    final FaultEvents events = new FaultEvents();
    final KernelLog log = new KernelLog(loop);
    final Iopf iopf = new Iopf(core, loop, TimingModel.ESTIMATES, events, failures, log);
    final IommuSva sva = new IommuSva(core, pasids, iopf, loop);
    final RecordingIommuOps ops = new RecordingIommuOps();
    final IopfQueue queue = iopf.queueAlloc("dmar0");
    final List<ResponseOrigin> origins = new ArrayList<>();

    SvaFixture() {
        events.addListener(new FaultEvents.Listener() {
            @Override
            public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
                origins.add(origin);
            }
        });
    }

    /** Probes an ATS/PRI function with {@code pasidBits} of PASID (0 = none) and adds it to the queue. */
    Device probe(String name, int rid, int pasidBits) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, pasidBits, 32,
                16, 4);
        Device dev = core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
        iopf.queueAddDevice(queue, dev);
        return dev;
    }

    /** A process with a read-write VMA at {@link #RW_VA} and a read-only one at {@link #RO_VA}, 4 pages each. */
    MmStruct process(String name) {
        MmStruct mm = new MmStruct(name, frames, zeroPage);
        mm.mmap(RW_VA, 0x4000, Vma.flagsOf("rw"));
        mm.mmap(RO_VA, 0x4000, Vma.flagsOf("r"));
        return mm;
    }

    /** The handle attached at {@code pasid} of the device's group, or null. */
    static AttachHandle handleAt(Device dev, int pasid) {
        return dev.group().pasidArray().get(pasid);
    }

    /** The CPU (and first-stage IOMMU) translation of {@code va} in {@code mm}. */
    WalkResult walk(MmStruct mm, long va) {
        return new X86PageTable(memory, 4).walk(mm.pgd(), va);
    }

    static IommuFault fault(int flags, int pasid, int grpid, int perm, long addr) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_PASID_VALID | flags, pasid, grpid, perm, addr);
    }

    static IommuFault lastRead(int pasid, int grpid, long addr) {
        return fault(IommuFault.PAGE_REQUEST_LAST_PAGE, pasid, grpid, IommuFault.PERM_READ, addr);
    }

    static IommuFault lastWrite(int pasid, int grpid, long addr) {
        return fault(IommuFault.PAGE_REQUEST_LAST_PAGE, pasid, grpid,
                IommuFault.PERM_READ | IommuFault.PERM_WRITE, addr);
    }

    static IommuFault partialRead(int pasid, int grpid, long addr) {
        return fault(0, pasid, grpid, IommuFault.PERM_READ, addr);
    }

    static PageResponse resp(int pasid, int grpid, PageResponseCode code) {
        return new PageResponse(pasid, grpid, code);
    }
}
