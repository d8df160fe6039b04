package dev.iommulab.lab.run;

import dev.iommulab.drivers.virtio.ViommuDriver;
import dev.iommulab.hw.viommu.ViommuOptions;
import dev.iommulab.hw.viommu.ViommuRefusal;
import dev.iommulab.hw.viommu.ViommuStatus;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.machine.Machine;

import java.util.List;

/**
 * The invariants of a machine behind a virtio-iommu (a guest): its devices' accesses stay within what the guest
 * mapped ({@link GuestDmaWatch}); every fault's record was delivered and taken by the guest, or counted dropped;
 * every request the device refused left its domains, attachments and mappings as they were.
 */
final class ViommuInvariants {

    private final Machine machine;
    private final VirtioIommu device;
    private final GuestDmaWatch dma;

    ViommuInvariants(Machine machine, VirtioIommu device, GuestDmaWatch dma) {
        this.machine = machine;
        this.device = device;
        this.dma = dma;
    }

    List<RunResult.InvariantEntry> check() {
        return List.of(guestDmaWithinMappings(), eventsDeliveredOrDropped(), refusedRequestsChangeNothing());
    }

    private RunResult.InvariantEntry guestDmaWithinMappings() {
        String detail = dma.judged + " access(es) judged"
                + (dma.inFlushQueue > 0 ? ", " + dma.inFlushQueue + " to IOVAs whose UNMAP was still queued" : "");
        return entry("guest-dma-within-mappings", dma.violations, detail);
    }

    /**
     * Every refused access is one fault; its record was delivered, dropped, or still waits for a buffer — and every
     * delivered record came back to the guest's event handler.
     */
    private RunResult.InvariantEntry eventsDeliveredOrDropped() {
        long detected = device.faultsDetected();
        long delivered = device.eventsDelivered();
        long dropped = device.eventsDropped();
        long held = device.eventsHeld();
        long taken = machine.ops() instanceof ViommuDriver d ? d.eventsTaken() : delivered;
        String counts = String.format("%d fault(s): %d delivered, %d dropped, %d held; the guest took %d", detected,
                delivered, dropped, held, taken);
        List<String> problems = detected == delivered + dropped + held && taken == delivered ? List.of()
                : List.of(counts);
        return entry("virtio-events-delivered-or-dropped", problems, counts);
    }

    /**
     * A request the device refused changed nothing. QEMU's own answers break this rule in two known places — an ATTACH
     * refused (INVAL) after its detach, an UNMAP stopping half-way (RANGE) — which under its implementation are
     * counted, not failed; any other change fails.
     */
    private RunResult.InvariantEntry refusedRequestsChangeNothing() {
        boolean qemu = device.options().implementation() == ViommuOptions.Implementation.QEMU;
        List<ViommuRefusal> changed = device.refusals().stream().filter(ViommuRefusal::changedState).toList();
        List<ViommuRefusal> known = changed.stream().filter(r -> qemu && qemuDeparture(r)).toList();
        List<String> violations = changed.stream().filter(r -> !known.contains(r))
                .map(r -> r.request() + " changed the device's state").toList();
        String detail = device.refusals().size() + " refused request(s)"
                + (known.isEmpty() ? "" : "; " + known.size() + " changed state, as QEMU's device does");
        return entry("refused-requests-change-nothing", violations, detail);
    }

    private static boolean qemuDeparture(ViommuRefusal r) {
        return r.request().startsWith("ATTACH") && r.status() == ViommuStatus.INVAL
                || r.request().startsWith("UNMAP") && r.status() == ViommuStatus.RANGE;
    }

    private static RunResult.InvariantEntry entry(String name, List<String> violations, String detail) {
        return violations.isEmpty() ? new RunResult.InvariantEntry(name, true, detail)
                : new RunResult.InvariantEntry(name, false, String.join("; ", violations.subList(0,
                        Math.min(5, violations.size()))) + (violations.size() > 5 ? "; ..." : ""));
    }
}
