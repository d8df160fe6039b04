package dev.iommulab.lab.machine;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import java.util.ArrayList;
import java.util.List;

/** Keeps every fault the IOMMU model detected, recorded or not, for the report. */
public final class FaultRecorder implements HwFaultObserver {

    private final List<HwFault> faults = new ArrayList<>();

    @Override
    public void faultDetected(HwFault fault) {
        faults.add(fault);
    }

    public List<HwFault> faults() {
        return List.copyOf(faults);
    }
}
