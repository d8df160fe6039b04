package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the runner watches during a run: faults reported to the core, responses decided by software,
 * PRG responses reaching functions (paired with the software decision that caused them, else
 * attributed to the hardware), and DMA outcomes.
 */
final class Observations implements FaultEvents.Listener {

    /** A response decided by software, waiting to reach its function. */
    record Decided(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
    }

    /** A PRG response that reached a function. */
    record Delivered(long atNs, String device, PrgResponse response, ResponseOrigin origin) {
    }

    /** A DMA work item of a device, finished or not. */
    static final class DmaItem {
        final String device;
        final Integer pasid;
        final String process;
        DmaOutcome outcome;
        final DmaJob job;

        DmaItem(String device, Integer pasid, String process, DmaJob job) {
            this.device = device;
            this.pasid = pasid;
            this.process = process;
            this.job = job;
        }
    }

    private final EventLoop loop;
    final List<Decided> decided = new ArrayList<>();
    final List<Delivered> delivered = new ArrayList<>();
    final Map<String, List<IommuFault>> reportedByDevice = new HashMap<>();
    final List<DmaItem> dma = new ArrayList<>();
    long faultsReported;
    private final Map<String, Deque<Decided>> inFlight = new HashMap<>();

    Observations(Machine machine) {
        this.loop = machine.loop();
        machine.faultEvents().addListener(this);
        for (PcieEndpoint ep : machine.endpoints().values()) {
            ep.addPrgResponseListener(r -> onDelivered(ep.config().name(), r));
        }
    }

    @Override
    public void faultReported(Device dev, IommuFault fault, int ret) {
        faultsReported++;
        reportedByDevice.computeIfAbsent(dev.name(), k -> new ArrayList<>()).add(fault);
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        Decided d = new Decided(dev, evt, response, origin);
        decided.add(d);
        inFlight.computeIfAbsent(dev.name() + "/" + response.grpid(), k -> new ArrayDeque<>()).add(d);
    }

    private void onDelivered(String device, PrgResponse r) {
        Deque<Decided> waiting = inFlight.get(device + "/" + r.prgi());
        Decided cause = waiting == null ? null : waiting.poll();
        delivered.add(new Delivered(loop.now(), device, r, cause == null ? ResponseOrigin.HARDWARE : cause.origin()));
    }
}
