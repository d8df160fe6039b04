package dev.iommulab.iopf.random;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.fault.PageResponse;
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
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfPolicies;
import dev.iommulab.iopf.IopfQueue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The small machine of a random interleaving, at the io-pgfault level: one core, one iopf queue, a few
 * probed PCIe functions on it, each with fault-capable SVA domains at one or two PASIDs, and a driver
 * ({@link RecordingIommuOps}) that only records {@code page_response} calls.
 */
final class RandomMachine {

    /** What the domain's iopf_handler does with a group. */
    enum HandlerKind {
        /** Queues the group's work on the workqueue; the work answers SUCCESS or INVALID and frees it. */
        SVA,
        /** Returns -EBUSY (io-pgfault aborts the group). */
        REFUSE
    }

    /** Receives every {@code ops->page_response} the driver gets. */
    interface ResponseSink {
        void pageResponse(Device dev, IommuFault evt, PageResponse msg);
    }

    final EventLoop loop;
    final IommuCore core = new IommuCore();
    final FaultEvents events = new FaultEvents();
    final FailureInjector failures = new FailureInjector();
    final KernelLog log;
    final RecordingIommuOps ops = new RecordingIommuOps("RAND");
    final Iopf iopf;
    final IopfQueue queue;
    final List<Device> devices = new ArrayList<>();
    private final Map<Device, Map<Integer, HandlerKind>> handlers = new LinkedHashMap<>();
    private final PhysicalMemory memory = new PhysicalMemory(4L << 20);
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, new FailureInjector());

    RandomMachine(EventLoop loop, UnaryOperator<IopfPolicies> adjust) {
        this.loop = loop;
        this.log = new KernelLog(loop);
        this.iopf = new Iopf(core, loop, TimingModel.ESTIMATES, events, failures, log,
                adjust.apply(IopfPolicies.kernel(failures)));
        this.queue = iopf.queueAlloc("rand0");
    }

    /** Probes an ATS/PRI function with 256 PASIDs and adds it to the iopf queue. */
    Device probeOnQueue(String name, int rid) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, 8, 32, 16, 4);
        Device dev = core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
        iopf.queueAddDevice(queue, dev);
        devices.add(dev);
        handlers.put(dev, new LinkedHashMap<>());
        return dev;
    }

    /** Attaches a new SVA domain at {@code pasid} whose iopf_handler is {@code handler} of kind {@code kind}. */
    void attachSva(Device dev, int pasid, HandlerKind kind, IopfHandler handler) {
        IommuDomain domain = new IommuDomain(DomainType.SVA, ops, ops, new MmStruct("proc" + pasid, frames,
                frames.allocate()));
        domain.setIopfHandler(handler);
        core.attachDevicePasid(domain, dev, pasid, new AttachHandle(domain));
        handlers.get(dev).put(pasid, kind);
    }

    /** Hands every page response the driver records to {@code sink}. */
    void sendResponsesTo(ResponseSink sink) {
        ops.addResponseListener(r -> sink.pageResponse(r.dev(), r.evt(), r.msg()));
    }

    /** Makes the driver a lossy spy: it drops the first response to an LPIG request. */
    void dropFirstLpigResponse() {
        boolean[] dropped = {false};
        ops.loseResponses(r -> {
            if (dropped[0] || !r.evt().lastPage()) {
                return false;
            }
            dropped[0] = true;
            return true;
        });
    }

    /** The handler kind attached at {@code pasid} of {@code dev}, or null (a fault there is a bad setup). */
    HandlerKind handlerAt(Device dev, int pasid) {
        return handlers.get(dev).get(pasid);
    }

    /** PASIDs with a domain attached on {@code dev}, in attach order. */
    List<Integer> attachedPasids(Device dev) {
        return List.copyOf(handlers.get(dev).keySet());
    }
}
