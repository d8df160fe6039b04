package dev.iommulab.lab.machine;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.viommu.ViommuEvent;
import dev.iommulab.hw.viommu.ViommuEventObserver;

import java.util.ArrayList;
import java.util.List;

/**
 * Keeps every fault the IOMMU model detected, recorded or not, for the report; on a virtio-iommu also what became
 * of each fault's event (delivered, when, or dropped).
 */
public final class FaultRecorder implements HwFaultObserver, ViommuEventObserver {

    private final List<HwFault> faults = new ArrayList<>();
    private final List<ViommuEvent> virtioEvents = new ArrayList<>();

    @Override
    public void faultDetected(HwFault fault) {
        faults.add(fault);
    }

    @Override
    public void eventSettled(ViommuEvent event) {
        virtioEvents.add(event);
    }

    public List<HwFault> faults() {
        return List.copyOf(faults);
    }

    /** The virtio-iommu's fault events in the order their fate was settled. */
    public List<ViommuEvent> virtioEvents() {
        return List.copyOf(virtioEvents);
    }
}
