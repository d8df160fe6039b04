package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.HwFaultReason;

/**
 * The VT-d fault reasons (FR codes) this model raises, with their common reason. Codes as in the
 * VT-d spec's fault-reason table and the kernel's {@code dma_remap_sm_fault_reasons}.
 */
public enum VtdFaultReason {
    SM_ROOT_ACCESS(0x38, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    SM_ROOT_NOT_PRESENT(0x39, HwFaultReason.DEVICE_CTX_NOT_PRESENT, false),
    SM_CONTEXT_ACCESS(0x40, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    SM_CONTEXT_NOT_PRESENT(0x41, HwFaultReason.DEVICE_CTX_NOT_PRESENT, true),
    SM_CONTEXT_DTE_CLEAR(0x44, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_CONTEXT_PASIDE_CLEAR(0x45, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_PASID_TOO_LARGE(0x46, HwFaultReason.PASID_OUT_OF_RANGE, true),
    SM_CONTEXT_PRE_CLEAR(0x47, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_PASID_DIR_ACCESS(0x50, HwFaultReason.PASID_TABLE_FETCH_ERROR, false),
    SM_PASID_DIR_NOT_PRESENT(0x51, HwFaultReason.PASID_ENTRY_NOT_PRESENT, true),
    SM_PASID_TABLE_ACCESS(0x58, HwFaultReason.PASID_TABLE_FETCH_ERROR, false),
    SM_PASID_ENTRY_NOT_PRESENT(0x59, HwFaultReason.PASID_ENTRY_NOT_PRESENT, true),
    SM_PASID_ENTRY_INVALID_PGTT(0x5b, HwFaultReason.PASID_ENTRY_MISCONFIGURED, true),
    SM_PASID_SRE_CLEAR(0x5d, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    FL_WALK_FETCH(0x70, HwFaultReason.WALK_FETCH_ERROR, false),
    FL_NOT_PRESENT(0x71, HwFaultReason.TRANSLATION_NOT_PRESENT, true),
    FL_RESERVED(0x72, HwFaultReason.PTE_RESERVED_BITS, true),
    NON_CANONICAL(0x80, HwFaultReason.ADDRESS_SIZE, true),
    FL_US_VIOLATION(0x81, HwFaultReason.PERMISSION_PRIVILEGE, true),
    FL_NO_EXECUTE(0x82, HwFaultReason.PERMISSION_EXEC, true),
    FL_NO_WRITE(0x85, HwFaultReason.PERMISSION_WRITE, true);

    private final int code;
    private final HwFaultReason reason;
    private final boolean qualified;

    VtdFaultReason(int code, HwFaultReason reason, boolean qualified) {
        this.code = code;
        this.reason = reason;
        this.qualified = qualified;
    }

    /** The 8-bit FR code. */
    public int code() {
        return code;
    }

    public HwFaultReason reason() {
        return reason;
    }

    /** Qualified faults are not recorded when FPD is set in the entry that governs them. */
    public boolean qualified() {
        return qualified;
    }
}
