package dev.iommulab.iopf;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.fixtures.RecordingIommuOps;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;

/**
 * io-pgfault on its own: a core, one iopf queue, a recording driver and unconnected PCIe endpoints.
 * Handlers are test doubles: {@link #holdingHandler()} accepts and keeps groups (as iommufd does),
 * {@link #svaLikeHandler()} answers SUCCESS from the queue's workqueue (as iommu_sva_iopf_handler does).
 */
final class IopfFixture {

    static final long VA = 0x4000_0000L;

    final EventLoop loop = new EventLoop(1);
    final IommuCore core = new IommuCore();
    final FaultEvents events = new FaultEvents();
    final FailureInjector failures = new FailureInjector();
    final KernelLog log = new KernelLog(loop);
    final Iopf iopf;
    final RecordingIommuOps ops = new RecordingIommuOps();
    final IopfQueue queue;
    /** Groups handed to {@link #holdingHandler()} and {@link #svaLikeHandler()}, in order. */
    final List<IopfGroup> handled = new ArrayList<>();
    /** Origin of every page response, as FaultEvents reports it. */
    final List<ResponseOrigin> origins = new ArrayList<>();
    /** Return value of every report, as FaultEvents reports it. */
    final List<Integer> reportReturns = new ArrayList<>();

    IopfFixture() {
        this(null);
    }

    /** With {@code policies} built from the fixture's failure injector (null: latest kernel, kernel policies). */
    IopfFixture(java.util.function.Function<IopfPolicies, IopfPolicies> policies) {
        IopfPolicies kernel = IopfPolicies.kernel(failures);
        iopf = new Iopf(core, loop, TimingModel.ESTIMATES, events, failures, log,
                policies == null ? kernel : policies.apply(kernel));
        queue = iopf.queueAlloc("dmar0");
        events.addListener(new FaultEvents.Listener() {
            @Override
            public void faultReported(Device dev, IommuFault fault, int ret) {
                reportReturns.add(ret);
            }

            @Override
            public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
                origins.add(origin);
            }
        });
    }

    /** Probes a PASID-capable (256 PASIDs) ATS/PRI function at {@code rid}. */
    Device probe(String name, int rid) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, 8, 32, 16, 4);
        return core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
    }

    /** Probes a device and registers it on {@link #queue} (iopf_queue_add_device). */
    Device probeOnQueue(String name, int rid) {
        Device dev = probe(name, rid);
        iopf.queueAddDevice(queue, dev);
        return dev;
    }

    /** Attaches a new domain of {@code type} (with {@code handler}, may be null) at {@code pasid}. */
    IommuDomain attach(Device dev, int pasid, DomainType type, IopfHandler handler) {
        IommuDomain domain = new IommuDomain(type, ops, ops, type == DomainType.SVA ? newMm() : null);
        domain.setIopfHandler(handler);
        core.attachDevicePasid(domain, dev, pasid, new AttachHandle(domain));
        return domain;
    }

    /**
     * Attaches a new domain of {@code type} (with {@code handler}, may be null) at the RID with a handle, as
     * iommufd does (iommu_attach_group_handle()).
     */
    IommuDomain attachRid(Device dev, DomainType type, IopfHandler handler) {
        IommuDomain domain = new IommuDomain(type, ops, ops, null);
        domain.setIopfHandler(handler);
        core.attachGroupHandle(domain, dev.group(), new AttachHandle(domain));
        return domain;
    }

    MmStruct newMm() {
        PhysicalMemory memory = new PhysicalMemory(16L << 20);
        FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
        return new MmStruct("proc", frames, frames.allocate());
    }

    /** Accepts every group and keeps it unanswered (iommufd_fault_iopf_handler). */
    IopfHandler holdingHandler() {
        return group -> {
            handled.add(group);
            return 0;
        };
    }

    /** Queues work that answers SUCCESS and frees the group (iommu_sva_iopf_handler + worker). */
    IopfHandler svaLikeHandler() {
        return group -> {
            handled.add(group);
            group.queueWork("test_handle_iopf", () -> {
                iopf.groupResponse(group, PageResponseCode.SUCCESS);
                iopf.freeGroup(group);
            });
            return 0;
        };
    }

    static IommuFault partial(int pasid, int grpid, long addr) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_PASID_VALID, pasid, grpid, IommuFault.PERM_READ, addr);
    }

    static IommuFault last(int pasid, int grpid, long addr) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_PASID_VALID | IommuFault.PAGE_REQUEST_LAST_PAGE, pasid,
                grpid, IommuFault.PERM_READ, addr);
    }

    static PageResponse resp(int pasid, int grpid, PageResponseCode code) {
        return new PageResponse(pasid, grpid, code);
    }

    List<String> logTexts() {
        return log.lines().stream().map(KernelLog.Line::text).toList();
    }
}
