package dev.iommulab.hw.iommu;

/**
 * The step of a DMA translation at which a fault happened — the unit of fault detail proposed in the 2017
 * "introduce device fault data" discussion, which also says whose mistake each step most likely is when the device
 * is assigned to a guest. {@link dev.iommulab.hw.FaultSteps} maps every vendor reason the models raise to one.
 */
public enum WalkStep {
    /** The device's entry (VT-d root and context entries, RISC-V device context): the host IOMMU driver's tables. */
    DEVICE_CONTEXT,
    /** The PASID table or directory and its entries: the guest IOMMU driver's, or host user space's. */
    PASID_TABLE,
    /** The page table's root (pgd): its pointer, its fetch, the address width it translates. */
    PAGE_TABLE_ROOT,
    /**
     * An entry below the root, including the access check against the leaf: most likely the device driver, which did
     * not map before the DMA.
     */
    PAGE_TABLE_ENTRY,
    /** No step of the walk: an interrupt-remapping (MSI) fault, an internal error, a reason no model defines. */
    NONE
}
