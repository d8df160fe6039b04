package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.HwFaultReason;

/**
 * The VT-d fault reasons (FR codes) of DMA remapping, each with the common reason of
 * reference/iommu-hardware.md §3.4 and whether it is <em>qualified</em>. Codes and names follow the
 * kernel's {@code dma_remap_fault_reasons} and {@code dma_remap_sm_fault_reasons} in
 * drivers/iommu/intel/dmar.c. A constant is an internal reason: where the spec reports two
 * situations with one code (a legacy second-level entry with R = W = 0 and one that only lacks the
 * right permission are both 0x05/0x06), there are two constants with the same code and different
 * common reasons.
 *
 * <p><b>Qualified faults</b> (reference §2.1.1, [PARTIAL]): FPD = 1 in the context entry, the PASID
 * directory entry or the PASID table entry used by the request suppresses the <em>record</em> of a
 * qualified fault; the request is blocked either way. This model's documented set: every fault found
 * once an entry that carries FPD has been read and found free of reserved bits, as in QEMU's
 * {@code vtd_qualified_faults[]} (context/PASID entry not present or invalid, address width,
 * permissions, page-walk faults including walk fetch errors, TT/DTE/PASIDE/PRE gating, interrupt
 * address). Not qualified, so always recorded: everything found before such an entry could be used —
 * TTM faults (0x30-0x32), root entry faults (0x01, 0x08, 0x0A, 0x38-0x3A), fetch errors of the entries
 * that carry FPD (0x09, 0x40, 0x50, 0x58) and reserved bits in them (0x0B, 0x42, 0x52, 0x5A).
 */
public enum VtdFaultReason {
    // ---- legacy mode (RTADDR.TTM = 00b) ----
    ROOT_NOT_PRESENT(0x01, HwFaultReason.DEVICE_CTX_NOT_PRESENT, false),
    CONTEXT_NOT_PRESENT(0x02, HwFaultReason.DEVICE_CTX_NOT_PRESENT, true),
    CONTEXT_INVALID(0x03, HwFaultReason.DEVICE_CTX_MISCONFIGURED, true),
    ADDRESS_BEYOND_MGAW(0x04, HwFaultReason.ADDRESS_SIZE, true),
    /** A write through a second-level entry with W = 0. */
    WRITE_DENIED(0x05, HwFaultReason.PERMISSION_WRITE, true),
    /** A write that met a second-level entry with R = W = 0: legacy mode reports it as 0x05 too. */
    WRITE_NOT_PRESENT(0x05, HwFaultReason.TRANSLATION_NOT_PRESENT, true),
    READ_DENIED(0x06, HwFaultReason.PERMISSION_READ, true),
    READ_NOT_PRESENT(0x06, HwFaultReason.TRANSLATION_NOT_PRESENT, true),
    NEXT_TABLE_INVALID(0x07, HwFaultReason.WALK_FETCH_ERROR, true),
    ROOT_TABLE_INVALID(0x08, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    CONTEXT_TABLE_INVALID(0x09, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    ROOT_RESERVED(0x0a, HwFaultReason.DEVICE_CTX_MISCONFIGURED, false),
    CONTEXT_RESERVED(0x0b, HwFaultReason.DEVICE_CTX_MISCONFIGURED, false),
    PTE_RESERVED(0x0c, HwFaultReason.PTE_RESERVED_BITS, true),
    /** The context entry's TT blocks the request (ATS or translated request without TT = 01b). */
    TT_BLOCKS(0x0d, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),

    // ---- root table address ----
    SM_INVALID_ROOT_TABLE_ADDRESS(0x30, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    TTM0_REQUEST_WITH_PASID(0x31, HwFaultReason.REQUEST_TYPE_DISALLOWED, false),
    TTM0_PAGE_REQUEST(0x32, HwFaultReason.REQUEST_TYPE_DISALLOWED, false),

    // ---- scalable mode: root, context, PASID directory, PASID table ----
    SM_ROOT_ACCESS(0x38, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    SM_ROOT_NOT_PRESENT(0x39, HwFaultReason.DEVICE_CTX_NOT_PRESENT, false),
    SM_ROOT_RESERVED(0x3a, HwFaultReason.DEVICE_CTX_MISCONFIGURED, false),
    SM_CONTEXT_ACCESS(0x40, HwFaultReason.DEVICE_CTX_FETCH_ERROR, false),
    SM_CONTEXT_NOT_PRESENT(0x41, HwFaultReason.DEVICE_CTX_NOT_PRESENT, true),
    SM_CONTEXT_RESERVED(0x42, HwFaultReason.DEVICE_CTX_MISCONFIGURED, false),
    SM_CONTEXT_INVALID(0x43, HwFaultReason.DEVICE_CTX_MISCONFIGURED, true),
    SM_CONTEXT_DTE_CLEAR(0x44, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_CONTEXT_PASIDE_CLEAR(0x45, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_PASID_TOO_LARGE(0x46, HwFaultReason.PASID_OUT_OF_RANGE, true),
    SM_CONTEXT_PRE_CLEAR(0x47, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_RID_PASID_ERROR(0x48, HwFaultReason.DEVICE_CTX_MISCONFIGURED, true),
    SM_PASID_DIR_ACCESS(0x50, HwFaultReason.PASID_TABLE_FETCH_ERROR, false),
    SM_PASID_DIR_NOT_PRESENT(0x51, HwFaultReason.PASID_ENTRY_NOT_PRESENT, true),
    SM_PASID_DIR_RESERVED(0x52, HwFaultReason.PASID_ENTRY_MISCONFIGURED, false),
    SM_PASID_TABLE_ACCESS(0x58, HwFaultReason.PASID_TABLE_FETCH_ERROR, false),
    SM_PASID_ENTRY_NOT_PRESENT(0x59, HwFaultReason.PASID_ENTRY_NOT_PRESENT, true),
    SM_PASID_ENTRY_RESERVED(0x5a, HwFaultReason.PASID_ENTRY_MISCONFIGURED, false),
    /** Reserved or unsupported PGTT, AW or FLPM. */
    SM_PASID_ENTRY_INVALID(0x5b, HwFaultReason.PASID_ENTRY_MISCONFIGURED, true),
    SM_PASID_ERE_CLEAR(0x5c, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),
    SM_PASID_SRE_CLEAR(0x5d, HwFaultReason.REQUEST_TYPE_DISALLOWED, true),

    // ---- scalable mode: first stage ----
    FL_WALK_FETCH(0x70, HwFaultReason.WALK_FETCH_ERROR, true),
    FL_NOT_PRESENT(0x71, HwFaultReason.TRANSLATION_NOT_PRESENT, true),
    FL_RESERVED(0x72, HwFaultReason.PTE_RESERVED_BITS, true),
    /** The top-level first-stage table (FL-PML4/PML5 at FLPTPTR) cannot be read. */
    FL_ROOT_FETCH(0x73, HwFaultReason.WALK_FETCH_ERROR, true),
    /** Nested: a first-stage table or page address (a GPA) is beyond the second stage's width. */
    NESTED_FL_ADDRESS_BEYOND(0x74, HwFaultReason.ADDRESS_SIZE, true),
    /** Nested: the second stage denies reading the top-level first-stage table. */
    NESTED_FL_ROOT_READ(0x75, HwFaultReason.PERMISSION_READ, true),
    /** Nested: the second stage denies reading a lower first-stage table. */
    NESTED_FL_READ(0x76, HwFaultReason.PERMISSION_READ, true),
    /** Nested: the second stage denies the write that sets A/D in a first-stage entry. */
    NESTED_FL_WRITE(0x77, HwFaultReason.PERMISSION_WRITE, true),

    // ---- scalable mode: second stage ----
    SL_WALK_FETCH(0x78, HwFaultReason.WALK_FETCH_ERROR, true),
    /** A second-stage entry with R = W = 0: not present (reported as an R/W permission error). */
    SL_NOT_PRESENT(0x79, HwFaultReason.TRANSLATION_NOT_PRESENT, true),
    SL_RESERVED(0x7a, HwFaultReason.PTE_RESERVED_BITS, true),
    /** The top-level second-stage table (at SLPTPTR) cannot be read. */
    SL_ROOT_INVALID(0x7b, HwFaultReason.WALK_FETCH_ERROR, true),
    SL_AD_NO_SNOOP(0x7c, HwFaultReason.ACCESS_FLAG, true),

    // ---- scalable mode: general ----
    NON_CANONICAL(0x80, HwFaultReason.ADDRESS_SIZE, true),
    FL_US_VIOLATION(0x81, HwFaultReason.PERMISSION_PRIVILEGE, true),
    NO_EXECUTE(0x82, HwFaultReason.PERMISSION_EXEC, true),
    /** Input address beyond the second stage's width (second-stage only or pass-through). */
    ADDRESS_BEYOND_MAX(0x83, HwFaultReason.ADDRESS_SIZE, true),
    /** A second-stage entry's address reaches above the host address width. */
    SL_ADDRESS_BEYOND_MAX(0x84, HwFaultReason.ADDRESS_SIZE, true),
    NO_WRITE(0x85, HwFaultReason.PERMISSION_WRITE, true),
    NO_READ(0x86, HwFaultReason.PERMISSION_READ, true),
    /** The output address of a request with PASID lies in the interrupt range 0xFEEx_xxxx. */
    INTERRUPT_ADDRESS(0x87, HwFaultReason.MSI_REDIRECT_FAULT, true),
    FL_AD_NO_SNOOP(0x90, HwFaultReason.ACCESS_FLAG, true),
    /**
     * QEMU's SFS.10, first-stage A/D update failed. Not raised by this model: an A/D write goes to an
     * entry the walk has just read, and {@link dev.iommulab.hw.mem.PhysicalMemory} never fails it.
     */
    FL_AD_UPDATE_FAILED(0x91, HwFaultReason.ACCESS_FLAG, true);

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

    /**
     * Found while walking the page tables (after the context and PASID entries were accepted). For an
     * ATS Translation Request such a fault is not recorded: the completion says it.
     */
    public boolean pageWalk() {
        return code >= 0x70 || code >= 0x04 && code <= 0x07 || code == 0x0c;
    }

    /**
     * A page-walk fault that means "no translation here now" (not present, non-canonical, beyond the
     * address width): an ATS Translation Request gets Success with R = W = 0 for it, and CA for the
     * other page-walk faults (tables that cannot be read or are malformed).
     */
    public boolean notPresentForAts() {
        return switch (this) {
            case FL_NOT_PRESENT, SL_NOT_PRESENT, READ_NOT_PRESENT, WRITE_NOT_PRESENT, NON_CANONICAL,
                    ADDRESS_BEYOND_MAX, ADDRESS_BEYOND_MGAW, NESTED_FL_ADDRESS_BEYOND -> true;
            default -> false;
        };
    }
}
