package dev.iommulab.lab.run;

import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The invariants of DESIGN.md §5 about memory and fault records: a device never touches memory outside what the
 * domain at its PASID maps — an SVA process's VMAs and CPU page table, or for PASID 0 the RID domain's page table —
 * judged at each access, and every fault either has a record or is counted as lost.
 */
final class MemoryInvariants {

    private static final long PAGE_MASK = ~0xfffL;

    private final Machine machine;
    private final Observations obs;

    MemoryInvariants(Machine machine, Observations obs) {
        this.machine = machine;
        this.obs = obs;
    }

    List<RunResult.InvariantEntry> check() {
        return List.of(dmaWithinMappings(), faultRecordedOrLost());
    }

    /**
     * Every access with a PASID that the IOMMU performed lay, at that instant, inside the mappings of the process
     * owning the PASID ({@link MappingWatch}).
     */
    private RunResult.InvariantEntry dmaWithinMappings() {
        return Invariants.entry("dma-within-mappings", obs.mappings.violations,
                obs.mappings.judged + " access(es) with a PASID judged; accesses without a PASID are not");
    }

    /** A page a requester faulted at. */
    private record FaultedPage(int rid, long page) {
    }

    /**
     * A DMA of a function without ATS that the IOMMU blocked (ur, ca, dropped) left a fault the IOMMU
     * detected at its address: recorded, or counted as lost ({@code recorded: false}) — or, behind a virtio-iommu
     * with {@code no-buffer: wait}, still waiting for an event buffer.
     */
    private RunResult.InvariantEntry faultRecordedOrLost() {
        List<String> bad = new ArrayList<>();
        Set<FaultedPage> faulted = new HashSet<>();
        machine.faultRecorder().faults().forEach(f -> faulted.add(new FaultedPage(f.rid(), f.addr() & PAGE_MASK)));
        if (machine.hardware() instanceof VirtioIommu v) {
            v.heldFaults().forEach(f -> faulted.add(new FaultedPage(f.endpoint(), f.address() & PAGE_MASK)));
        }
        for (Observations.DmaItem item : obs.visit(obs.dma)) {
            PcieEndpoint ep = machine.endpoint(item.device);
            if (item.outcome == null || ep.config().ats() || item.outcome.faultAddr() < 0
                    || !(item.outcome.status() == DmaStatus.UR || item.outcome.status() == DmaStatus.CA
                    || item.outcome.status() == DmaStatus.DROPPED)) {
                continue;
            }
            long page = item.outcome.faultAddr() & PAGE_MASK;
            if (!faulted.contains(new FaultedPage(ep.rid(), page))) {
                bad.add(String.format("%s %s %#x ended %s with no fault record and no lost-record count (step %s)",
                        item.device, item.job.access().name().toLowerCase(), item.outcome.faultAddr(),
                        item.outcome.status().label(), item.step));
            }
        }
        return Invariants.entry("fault-recorded-or-lost", bad, "");
    }
}
