package dev.iommulab.hw.iommu;

/** PCIe completion status of a non-posted request. */
public enum CompletionStatus {
    SUCCESS, UR, CA
}
