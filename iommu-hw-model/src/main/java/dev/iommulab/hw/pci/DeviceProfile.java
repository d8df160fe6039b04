package dev.iommulab.hw.pci;

/** How a function's DMA engine behaves (reference/iommu-hardware.md §4). */
public enum DeviceProfile {
    /** SVA accelerator: ATS + PRI; Invalid fails the work item with the faulting address. */
    ACCELERATOR,
    /** A NIC: a failed buffer access drops the frame. */
    NIC,
    /** An NVMe controller: a failed transfer fails the command. */
    NVME,
    /** A plain DMA master. */
    GENERIC
}
