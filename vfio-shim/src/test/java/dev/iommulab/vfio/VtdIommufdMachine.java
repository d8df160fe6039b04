package dev.iommulab.vfio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.intel.IntelIommu;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfPolicies;
import java.util.ArrayList;
import java.util.List;

/**
 * A VT-d machine wired by hand, as the lab's Machine does through Guice: one scalable-mode unit with the Intel
 * driver, io-pgfault, two PRI-capable accelerator functions (acc0 03:00.0, acc1 04:00.0) and a VF with PRI
 * (vf0 05:00.1), one process, and an iommufd context. Records every page response with its origin and every PRG
 * response a function receives.
 */
final class VtdIommufdMachine {

    /** A page response the driver was asked to send, with who decided it. */
    record Answer(Device dev, int pasid, int grpid, String code, ResponseOrigin origin) {
    }

    static final long VA = 0x7f00_0000_0000L;

    final EventLoop loop = new EventLoop(7);
    final TimingModel timing = TimingModel.ESTIMATES;
    final PhysicalMemory memory = new PhysicalMemory(256L << 20);
    final PcieFabric fabric = new PcieFabric(loop, timing.pcieTlpNs());
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    final KernelLog log = new KernelLog(loop);
    final FaultEvents events = new FaultEvents();
    final IommuCore core = new IommuCore();
    final Iopf iopf = new Iopf(core, loop, timing, events, failures, log, IopfPolicies.kernel(failures));
    final VtdUnit unit = new VtdUnit(VtdConfig.defaults("dmar0"), memory, loop, timing, fabric, f -> { });
    final IntelIommu intel = new IntelIommu("dmar0", unit,
            DriverServices.withDefaultPolicies(frames, iopf, loop, timing, log, events));
    final List<Answer> answers = new ArrayList<>();
    final List<PrgResponse> prg = new ArrayList<>();
    final PcieEndpoint acc0 = endpoint("acc0", 0x0300, false);
    final PcieEndpoint acc1 = endpoint("acc1", 0x0400, false);
    final PcieEndpoint vf0 = endpoint("vf0", 0x0501, true);
    final Device dev0 = core.probeDevice(acc0, intel);
    final Device dev1 = core.probeDevice(acc1, intel);
    final Device vf = core.probeDevice(vf0, intel);
    final MmStruct mm = new MmStruct("vmm", frames, frames.allocate());
    final Iommufd ctx;

    VtdIommufdMachine() {
        this(Iommufd.ReplaceAutoResponse.INTENDED);
    }

    VtdIommufdMachine(Iommufd.ReplaceAutoResponse mode) {
        events.addListener(new FaultEvents.Listener() {
            @Override
            public void pageResponse(Device d, IommuFault evt, PageResponse r, ResponseOrigin origin) {
                answers.add(new Answer(d, r.pasid(), r.grpid(), r.code().name(), origin));
            }
        });
        ctx = new Iommufd(core, iopf, mode);
    }

    private PcieEndpoint endpoint(String name, int rid, boolean virtfn) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, 20, 32, 64, 16,
                EndpointOptions.DEFAULTS.withVirtualFunction(virtfn));
        PcieEndpoint ep = new PcieEndpoint(config, loop, timing);
        ep.connect(unit);
        fabric.attach(ep);
        ep.addPrgResponseListener(prg::add);
        return ep;
    }

    /**
     * The function sends a raw page request ({@code pasid} &lt; 0: without a PASID prefix) for a read, or a write
     * when {@code write}; the machine then settles.
     */
    void request(PcieEndpoint ep, int pasid, int prgi, boolean write, boolean last, long addr) {
        ep.sendPageRequest(new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0), false, false, !write,
                write, last, prgi, addr), null);
        loop.runUntilIdle();
    }

    /** Answers of {@code dev}, in order. */
    List<Answer> answersOf(Device dev) {
        return answers.stream().filter(a -> a.dev() == dev).toList();
    }
}
