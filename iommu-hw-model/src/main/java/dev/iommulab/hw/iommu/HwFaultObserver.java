package dev.iommulab.hw.iommu;

/** Sees every fault an IOMMU model detects, recorded or not; the lab uses it for its report. */
@FunctionalInterface
public interface HwFaultObserver {
    void faultDetected(HwFault fault);
}
