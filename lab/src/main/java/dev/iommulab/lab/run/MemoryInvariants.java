package dev.iommulab.lab.run;

import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The invariants of DESIGN.md §5 about memory and fault records: a device never touches memory outside
 * what its domain maps, and every fault either has a record or is counted as lost.
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
        return List.of(dmaWithinDomain(), faultRecordedOrLost());
    }

    /**
     * A DMA that completed {@code ok} through a process's PASID touched only pages inside the process's
     * VMAs that allow the access, and a write's bytes are in the process's memory.
     */
    private RunResult.InvariantEntry dmaWithinDomain() {
        List<String> bad = new ArrayList<>();
        for (Observations.DmaItem item : obs.dma) {
            if (item.outcome == null || item.outcome.status() != DmaStatus.OK || item.process == null) {
                continue;
            }
            MmStruct mm = machine.process(item.process);
            long addr = item.job.addr();
            long end = addr + item.job.size();
            for (long page = addr & PAGE_MASK; page < end; page += 0x1000) {
                Vma vma = mm.vmaLookup(page);
                if (vma == null || !vma.has(vmFlag(item.job.access()))) {
                    bad.add(String.format("%s PASID %s %s %#x completed ok outside %s's %s VMAs (step %s)",
                            item.device, item.pasid, item.job.access().name().toLowerCase(), page, item.process,
                            item.job.access().name().toLowerCase(), item.step));
                }
            }
            if (item.job.access() == Access.WRITE && item.job.data() != null
                    && !Arrays.equals(mm.read(addr, item.job.size()), item.job.data())) {
                bad.add(String.format("%s PASID %s write %#x+%d completed ok but its bytes are not in %s (step %s)",
                        item.device, item.pasid, addr, item.job.size(), item.process, item.step));
            }
        }
        return Invariants.entry("dma-within-domain", bad, "");
    }

    private static int vmFlag(Access access) {
        return switch (access) {
            case READ -> Vma.VM_READ;
            case WRITE -> Vma.VM_WRITE;
            case EXEC -> Vma.VM_EXEC;
        };
    }

    /**
     * A DMA of a function without ATS that the IOMMU blocked (ur, ca, dropped) left a fault the IOMMU
     * detected at its address: recorded, or counted as lost ({@code recorded: false}).
     */
    private RunResult.InvariantEntry faultRecordedOrLost() {
        List<String> bad = new ArrayList<>();
        List<HwFault> faults = machine.faultRecorder().faults();
        for (Observations.DmaItem item : obs.dma) {
            PcieEndpoint ep = machine.endpoint(item.device);
            if (item.outcome == null || ep.config().ats() || item.outcome.faultAddr() < 0
                    || !(item.outcome.status() == DmaStatus.UR || item.outcome.status() == DmaStatus.CA
                    || item.outcome.status() == DmaStatus.DROPPED)) {
                continue;
            }
            long page = item.outcome.faultAddr() & PAGE_MASK;
            boolean seen = faults.stream().anyMatch(f -> f.rid() == ep.rid() && (f.addr() & PAGE_MASK) == page);
            if (!seen) {
                bad.add(String.format("%s %s %#x ended %s with no fault record and no lost-record count (step %s)",
                        item.device, item.job.access().name().toLowerCase(), item.outcome.faultAddr(),
                        item.outcome.status().label(), item.step));
            }
        }
        return Invariants.entry("fault-recorded-or-lost", bad, "");
    }
}
