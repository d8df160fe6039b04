package dev.iommulab.hw.iommu;

/**
 * A page request as an IOMMU queues it for software (VT-d page request descriptor, RISC-V page-request-queue
 * record, SMMUv3 PRI queue entry, AMD-Vi PPR log entry): the vendor's bytes around the fields of the PCIe
 * Page Request Message.
 */
public interface PageRequestRecord extends QueueRecord {

    /** The request as the function sent it (what every vendor's record carries). */
    PageRequestMessage toMessage();
}
