package dev.iommulab.hw.iommu;

/**
 * The common fault-reason vocabulary of all IOMMU models (reference/iommu-hardware.md §3.4). Each
 * model keeps its precise vendor code next to it in {@link HwFault#vendorCode()}.
 */
public enum HwFaultReason {
    IOMMU_BLOCKED_ALL,
    DEVICE_ID_OUT_OF_RANGE,
    DEVICE_CTX_FETCH_ERROR,
    DEVICE_CTX_NOT_PRESENT,
    DEVICE_CTX_MISCONFIGURED,
    /** ATS, translated requests, PASID, privileged, execute or PRI not enabled for the requester. */
    REQUEST_TYPE_DISALLOWED,
    PASID_OUT_OF_RANGE,
    PASID_TABLE_FETCH_ERROR,
    PASID_ENTRY_NOT_PRESENT,
    PASID_ENTRY_MISCONFIGURED,
    WALK_FETCH_ERROR,
    ADDRESS_SIZE,
    TRANSLATION_NOT_PRESENT,
    PTE_RESERVED_BITS,
    ACCESS_FLAG,
    PERMISSION_READ,
    PERMISSION_WRITE,
    PERMISSION_EXEC,
    PERMISSION_PRIVILEGE,
    MSI_REDIRECT_FAULT,
    CACHE_CONFLICT,
    INTERNAL_ERROR,
    UNKNOWN
}
