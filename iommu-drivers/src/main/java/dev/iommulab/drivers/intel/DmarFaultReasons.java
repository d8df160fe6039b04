package dev.iommulab.drivers.intel;

import java.util.List;

/**
 * The fault reason strings of drivers/iommu/intel/dmar.c, {@code dma_remap_fault_reasons} (legacy 0x00-0x0D),
 * {@code irq_remap_fault_reasons} (0x20-0x26) and {@code dma_remap_sm_fault_reasons} (0x30-0x90, "Unknown" in
 * the gaps), looked up as {@code dmar_get_fault_reason()} does. The strings are the kernel's, byte for byte,
 * including its capitalisation ("PRE field in Context-Entry").
 */
final class DmarFaultReasons {

    /** {@code enum faulttype}. */
    enum FaultType {
        DMA_REMAP, INTR_REMAP, UNKNOWN
    }

    /** What {@code dmar_get_fault_reason()} returns: the string and, through its pointer, the fault type. */
    record Reason(FaultType type, String text) {
    }

    private static final String U = "Unknown";

    private static final List<String> DMA_REMAP_FAULT_REASONS = List.of(
            "Software",
            "Present bit in root entry is clear",
            "Present bit in context entry is clear",
            "Invalid context entry",
            "Access beyond MGAW",
            "PTE Write access is not set",
            "PTE Read access is not set",
            "Next page table ptr is invalid",
            "Root table address invalid",
            "Context table ptr is invalid",
            "non-zero reserved fields in RTP",
            "non-zero reserved fields in CTP",
            "non-zero reserved fields in PTE",
            "PCE for translation request specifies blocking");

    private static final List<String> DMA_REMAP_SM_FAULT_REASONS = List.of(
            "SM: Invalid Root Table Address",
            "SM: TTM 0 for request with PASID",
            "SM: TTM 0 for page group request",
            U, U, U, U, U, /* 0x33-0x37 */
            "SM: Error attempting to access Root Entry",
            "SM: Present bit in Root Entry is clear",
            "SM: Non-zero reserved field set in Root Entry",
            U, U, U, U, U, /* 0x3B-0x3F */
            "SM: Error attempting to access Context Entry",
            "SM: Present bit in Context Entry is clear",
            "SM: Non-zero reserved field set in the Context Entry",
            "SM: Invalid Context Entry",
            "SM: DTE field in Context Entry is clear",
            "SM: PASID Enable field in Context Entry is clear",
            "SM: PASID is larger than the max in Context Entry",
            "SM: PRE field in Context-Entry is clear",
            "SM: RID_PASID field error in Context-Entry",
            U, U, U, U, U, U, U, /* 0x49-0x4F */
            "SM: Error attempting to access the PASID Directory Entry",
            "SM: Present bit in Directory Entry is clear",
            "SM: Non-zero reserved field set in PASID Directory Entry",
            U, U, U, U, U, /* 0x53-0x57 */
            "SM: Error attempting to access PASID Table Entry",
            "SM: Present bit in PASID Table Entry is clear",
            "SM: Non-zero reserved field set in PASID Table Entry",
            "SM: Invalid Scalable-Mode PASID Table Entry",
            "SM: ERE field is clear in PASID Table Entry",
            "SM: SRE field is clear in PASID Table Entry",
            U, U, /* 0x5E-0x5F */
            U, U, U, U, U, U, U, U, /* 0x60-0x67 */
            U, U, U, U, U, U, U, U, /* 0x68-0x6F */
            "SM: Error attempting to access first-level paging entry",
            "SM: Present bit in first-level paging entry is clear",
            "SM: Non-zero reserved field set in first-level paging entry",
            "SM: Error attempting to access FL-PML4 entry",
            "SM: First-level entry address beyond MGAW in Nested translation",
            "SM: Read permission error in FL-PML4 entry in Nested translation",
            "SM: Read permission error in first-level paging entry in Nested translation",
            "SM: Write permission error in first-level paging entry in Nested translation",
            "SM: Error attempting to access second-level paging entry",
            "SM: Read/Write permission error in second-level paging entry",
            "SM: Non-zero reserved field set in second-level paging entry",
            "SM: Invalid second-level page table pointer",
            "SM: A/D bit update needed in second-level entry when set up in no snoop",
            U, U, U, /* 0x7D-0x7F */
            "SM: Address in first-level translation is not canonical",
            "SM: U/S set 0 for first-level translation with user privilege",
            "SM: No execute permission for request with PASID and ER=1",
            "SM: Address beyond the DMA hardware max",
            "SM: Second-level entry address beyond the max",
            "SM: No write permission for Write/AtomicOp request",
            "SM: No read permission for Read/AtomicOp request",
            "SM: Invalid address-interrupt address",
            U, U, U, U, U, U, U, U, /* 0x88-0x8F */
            "SM: A/D bit update needed in first-level entry when set up in no snoop");

    private static final List<String> IRQ_REMAP_FAULT_REASONS = List.of(
            "Detected reserved fields in the decoded interrupt-remapped request",
            "Interrupt index exceeded the interrupt-remapping table size",
            "Present field in the IRTE entry is clear",
            "Error accessing interrupt-remapping table pointed by IRTA_REG",
            "Detected reserved fields in the IRTE entry",
            "Blocked a compatibility format interrupt request",
            "Blocked an interrupt request due to source-id verification failure");

    private DmarFaultReasons() {
    }

    /**
     * Counterpart of {@code dmar_get_fault_reason()}: interrupt-remapping reasons from 0x20, scalable-mode
     * reasons from 0x30 (through 0x90), legacy reasons below 0x0E, "Unknown" otherwise (e.g. 0x0E-0x1F,
     * 0x27-0x2F and above 0x90).
     */
    static Reason get(int faultReason) {
        int fr = faultReason & 0xff;
        if (fr >= 0x20 && fr - 0x20 < IRQ_REMAP_FAULT_REASONS.size()) {
            return new Reason(FaultType.INTR_REMAP, IRQ_REMAP_FAULT_REASONS.get(fr - 0x20));
        }
        if (fr >= 0x30 && fr - 0x30 < DMA_REMAP_SM_FAULT_REASONS.size()) {
            return new Reason(FaultType.DMA_REMAP, DMA_REMAP_SM_FAULT_REASONS.get(fr - 0x30));
        }
        if (fr < DMA_REMAP_FAULT_REASONS.size()) {
            return new Reason(FaultType.DMA_REMAP, DMA_REMAP_FAULT_REASONS.get(fr));
        }
        return new Reason(FaultType.UNKNOWN, U);
    }
}
