package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.viommu.ViommuEvent;
import dev.iommulab.hw.viommu.ViommuOptions;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.iopf.Iopf;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * A guest wired by hand: 64 MiB of guest memory, a virtio-iommu device model (QEMU's defaults, {@code config.bypass}
 * as given), the guest kernel's page allocator, log, IOMMU core and the virtio-iommu driver probed on it, and a NIC at
 * 00:02.0 (endpoint 16) whose DMA goes through the device.
 */
final class GuestFixture {

    static final int NIC_RID = 0x10;

    final EventLoop loop = new EventLoop(7);
    final TimingModel timing = TimingModel.ESTIMATES;
    final PhysicalMemory memory = new PhysicalMemory(64L << 20);
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    final KernelLog log = new KernelLog(loop);
    final FaultEvents events = new FaultEvents();
    final IommuCore core = new IommuCore();
    final Iopf iopf = new Iopf(core, loop, timing, events, failures, log);
    final LegacyFaultReporting legacy = new LegacyFaultReporting(log, loop);
    final List<HwFault> hwFaults = new ArrayList<>();
    final List<ViommuEvent> viommuEvents = new ArrayList<>();
    final VirtioIommu device;
    final ViommuDriver driver;
    final PcieEndpoint nic;

    GuestFixture(ViommuOptions options, ViommuDriver.Options driverOptions) {
        device = new VirtioIommu("virtio-iommu", options, memory, loop, timing, hwFaults::add, viommuEvents::add);
        device.addEndpoint(NIC_RID, List.of());
        driver = new ViommuDriver(device, "virtio0", driverOptions,
                DriverServices.withDefaultPolicies(frames, iopf, loop, timing, log, events), legacy);
        nic = new PcieEndpoint(new EndpointConfig("vnet0", NIC_RID, DeviceProfile.NIC, false, false, 0, 1, 0, 1),
                loop, timing);
        nic.connect(device);
    }

    GuestFixture() {
        this(ViommuOptions.DEFAULTS.withBootBypass(false), ViommuDriver.Options.DEFAULTS);
    }

    Device probe() {
        return core.probeDevice(nic, driver);
    }

    /** Runs one DMA of the NIC to completion. */
    DmaOutcome dma(long addr, int size, Access access) {
        AtomicReference<DmaOutcome> out = new AtomicReference<>();
        byte[] data = access == Access.WRITE ? new byte[size] : null;
        nic.startDma(new DmaJob(addr, size, access, -1, false, data), out::set);
        loop.runUntilIdle();
        return out.get();
    }

    /** The kernel log as dmesg prints it, without timestamps. */
    List<String> dmesg() {
        return log.lines().stream().map(KernelLog.Line::text).collect(Collectors.toList());
    }
}
