package dev.iommulab.hw.sim;

/** Where a step of a fault's journey happens, from the endpoint up to user space. */
public enum Layer {
    DEVICE, IOMMU, DRIVER, IOPF, SVA, CORE, MM, USER, LAB
}
