package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.fixtures.drivers.DriverHarness;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfQueue;
import java.util.ArrayList;
import java.util.List;

/**
 * What every driver's {@link DriverHarness} wires the same way, below and beside the driver: event loop, 256 MiB of
 * memory, the PCIe fabric, the page allocator, kernel log, fault events, the IOMMU core and io-pgfault. A vendor
 * harness adds its hardware model and driver and reads the contract's observations from that hardware.
 */
public abstract class StackHarness implements DriverHarness {

    protected final EventLoop loop = new EventLoop(42);
    protected final TimingModel timing = TimingModel.ESTIMATES;
    protected final PhysicalMemory memory = new PhysicalMemory(256L << 20);
    protected final PcieFabric fabric = new PcieFabric(loop, timing.pcieTlpNs());
    protected final List<HwFault> hwFaults = new ArrayList<>();
    protected final FailureInjector failures = new FailureInjector();
    protected final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    protected final KernelLog log = new KernelLog(loop);
    protected final FaultEvents events = new FaultEvents();
    protected final IommuCore core = new IommuCore();
    protected final Iopf iopf = new Iopf(core, loop, timing, events, failures, log);

    /** The IOMMU model functions connect to. */
    protected abstract IommuHardware hardware();

    /** The driver's io-pgfault queue. */
    protected abstract IopfQueue iopfQueue();

    @Override public EventLoop loop() { return loop; }
    @Override public PhysicalMemory memory() { return memory; }
    @Override public KernelLog log() { return log; }
    @Override public FaultEvents events() { return events; }
    @Override public FailureInjector failures() { return failures; }
    @Override public FrameAllocator frames() { return frames; }
    @Override public IommuCore core() { return core; }
    @Override public List<HwFault> hwFaults() { return hwFaults; }

    @Override
    public PcieEndpoint connect(EndpointConfig config) {
        PcieEndpoint ep = new PcieEndpoint(config, loop, timing);
        ep.connect(hardware());
        fabric.attach(ep);
        return ep;
    }

    // ---- io-pgfault ----

    @Override public List<String> iopfQueueDevices() { return iopfQueue().deviceNames(); }
    @Override public int faultParamUsers(Device dev) { return iopf.faultParamUsers(dev); }
    @Override public int pendingGroups(Device dev) { return iopf.pendingGroups(dev); }
    @Override public List<IommuFault> partials(Device dev) { return iopf.partials(dev); }
    @Override public boolean groupOwed(IopfGroup group) { return iopf.groupOwed(group); }

    @Override
    public void groupResponse(IopfGroup group, PageResponseCode code) {
        iopf.groupResponse(group, code);
        iopf.freeGroup(group);
    }
}
