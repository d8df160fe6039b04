package dev.iommulab.drivers.intel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.IommuCore;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The log line of one fault record: {@code dmar_fault_do_one()} with {@code dmar_get_fault_reason()} and the
 * tables {@code dma_remap_fault_reasons}, {@code dma_remap_sm_fault_reasons} and {@code irq_remap_fault_reasons}
 * of drivers/iommu/intel/dmar.c (pr_fmt "DMAR: "). The expected strings below are copied from the kernel
 * independently of the production table.
 */
class DmarFaultReasonsTest {

    /** Requester 00:02.0, the integrated GPU's usual address. */
    private static final int SID = 0x0010;

    static Stream<Arguments> commonReasons() {
        return Stream.of(
                // dma_remap_fault_reasons (legacy mode)
                Arguments.of(0x01, "Present bit in root entry is clear"),
                Arguments.of(0x02, "Present bit in context entry is clear"),
                Arguments.of(0x03, "Invalid context entry"),
                Arguments.of(0x04, "Access beyond MGAW"),
                Arguments.of(0x05, "PTE Write access is not set"),
                Arguments.of(0x06, "PTE Read access is not set"),
                Arguments.of(0x07, "Next page table ptr is invalid"),
                Arguments.of(0x08, "Root table address invalid"),
                Arguments.of(0x09, "Context table ptr is invalid"),
                Arguments.of(0x0a, "non-zero reserved fields in RTP"),
                Arguments.of(0x0b, "non-zero reserved fields in CTP"),
                Arguments.of(0x0c, "non-zero reserved fields in PTE"),
                Arguments.of(0x0d, "PCE for translation request specifies blocking"),
                // dma_remap_sm_fault_reasons: root table address, root, context, PASID directory and table
                Arguments.of(0x30, "SM: Invalid Root Table Address"),
                Arguments.of(0x31, "SM: TTM 0 for request with PASID"),
                Arguments.of(0x32, "SM: TTM 0 for page group request"),
                Arguments.of(0x38, "SM: Error attempting to access Root Entry"),
                Arguments.of(0x39, "SM: Present bit in Root Entry is clear"),
                Arguments.of(0x3a, "SM: Non-zero reserved field set in Root Entry"),
                Arguments.of(0x40, "SM: Error attempting to access Context Entry"),
                Arguments.of(0x41, "SM: Present bit in Context Entry is clear"),
                Arguments.of(0x42, "SM: Non-zero reserved field set in the Context Entry"),
                Arguments.of(0x43, "SM: Invalid Context Entry"),
                Arguments.of(0x44, "SM: DTE field in Context Entry is clear"),
                Arguments.of(0x45, "SM: PASID Enable field in Context Entry is clear"),
                Arguments.of(0x46, "SM: PASID is larger than the max in Context Entry"),
                Arguments.of(0x47, "SM: PRE field in Context-Entry is clear"),
                Arguments.of(0x48, "SM: RID_PASID field error in Context-Entry"),
                Arguments.of(0x50, "SM: Error attempting to access the PASID Directory Entry"),
                Arguments.of(0x51, "SM: Present bit in Directory Entry is clear"),
                Arguments.of(0x52, "SM: Non-zero reserved field set in PASID Directory Entry"),
                Arguments.of(0x58, "SM: Error attempting to access PASID Table Entry"),
                Arguments.of(0x59, "SM: Present bit in PASID Table Entry is clear"),
                Arguments.of(0x5a, "SM: Non-zero reserved field set in PASID Table Entry"),
                Arguments.of(0x5b, "SM: Invalid Scalable-Mode PASID Table Entry"),
                Arguments.of(0x5c, "SM: ERE field is clear in PASID Table Entry"),
                Arguments.of(0x5d, "SM: SRE field is clear in PASID Table Entry"),
                // first and second stage, nested
                Arguments.of(0x70, "SM: Error attempting to access first-level paging entry"),
                Arguments.of(0x71, "SM: Present bit in first-level paging entry is clear"),
                Arguments.of(0x72, "SM: Non-zero reserved field set in first-level paging entry"),
                Arguments.of(0x73, "SM: Error attempting to access FL-PML4 entry"),
                Arguments.of(0x74, "SM: First-level entry address beyond MGAW in Nested translation"),
                Arguments.of(0x75, "SM: Read permission error in FL-PML4 entry in Nested translation"),
                Arguments.of(0x76, "SM: Read permission error in first-level paging entry in Nested translation"),
                Arguments.of(0x77, "SM: Write permission error in first-level paging entry in Nested translation"),
                Arguments.of(0x78, "SM: Error attempting to access second-level paging entry"),
                Arguments.of(0x79, "SM: Read/Write permission error in second-level paging entry"),
                Arguments.of(0x7a, "SM: Non-zero reserved field set in second-level paging entry"),
                Arguments.of(0x7b, "SM: Invalid second-level page table pointer"),
                Arguments.of(0x7c, "SM: A/D bit update needed in second-level entry when set up in no snoop"),
                // general scalable-mode checks
                Arguments.of(0x80, "SM: Address in first-level translation is not canonical"),
                Arguments.of(0x81, "SM: U/S set 0 for first-level translation with user privilege"),
                Arguments.of(0x82, "SM: No execute permission for request with PASID and ER=1"),
                Arguments.of(0x83, "SM: Address beyond the DMA hardware max"),
                Arguments.of(0x84, "SM: Second-level entry address beyond the max"),
                Arguments.of(0x85, "SM: No write permission for Write/AtomicOp request"),
                Arguments.of(0x86, "SM: No read permission for Read/AtomicOp request"),
                Arguments.of(0x87, "SM: Invalid address-interrupt address"),
                Arguments.of(0x90, "SM: A/D bit update needed in first-level entry when set up in no snoop"));
    }

    /**
     * dmar_fault_do_one(): a read record without PASID prints
     * "DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 [fault reason 0x06] PTE Read access
     * is not set", the reason as two hex digits and the string dmar_get_fault_reason() picks.
     */
    @ParameterizedTest(name = "0x{0}")
    @MethodSource("commonReasons")
    void dmarFaultDoOne_commonReason_printsKernelLine(int reason, String text) {
        String line = DmarFaultHandler.dmarFaultDoOne(1, reason, IommuCore.IOMMU_PASID_INVALID, SID, 0x1000);

        assertThat(line).isEqualTo(String.format("DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 "
                + "[fault reason 0x%02x] %s", reason, text));
    }

    /** dmar_fault_do_one(): a write record with PASID 1 prints "[DMA Write PASID 0x1]" with the PASID in hex. */
    @Test
    void dmarFaultDoOne_writeWithPasid_printsPasidInHex() {
        assertThat(DmarFaultHandler.dmarFaultDoOne(0, 0x71, 0x1, 0x0300, 0x7f12_3456_0000L)).isEqualTo(
                "DMAR: [DMA Write PASID 0x1] Request device [03:00.0] fault addr 0x7f1234560000 [fault reason 0x71] "
                        + "SM: Present bit in first-level paging entry is clear");
        assertThat(DmarFaultHandler.dmarFaultDoOne(1, 0x59, 0xfffff, 0xfffa, 0x2000)).isEqualTo(
                "DMAR: [DMA Read PASID 0xfffff] Request device [ff:1f.2] fault addr 0x2000 [fault reason 0x59] "
                        + "SM: Present bit in PASID Table Entry is clear");
    }

    /**
     * dmar_get_fault_reason(): codes in no table (0x0E-0x1F, 0x27-0x2F, the gaps of the scalable table, above
     * 0x90) are "Unknown" and printed in the DMA format; 0x00 is "Software".
     */
    @Test
    void dmarFaultDoOne_codesInNoTable_printUnknown() {
        for (int code : new int[] {0x0e, 0x1f, 0x27, 0x2f, 0x33, 0x49, 0x5e, 0x6f, 0x7d, 0x88, 0x91, 0xff}) {
            assertThat(DmarFaultHandler.dmarFaultDoOne(1, code, IommuCore.IOMMU_PASID_INVALID, SID, 0x1000))
                    .isEqualTo(String.format("DMAR: [DMA Read NO_PASID] Request device [00:02.0] fault addr 0x1000 "
                            + "[fault reason 0x%02x] Unknown", code));
        }
        assertThat(DmarFaultHandler.dmarFaultDoOne(0, 0, IommuCore.IOMMU_PASID_INVALID, SID, 0)).endsWith(
                "[fault reason 0x00] Software");
    }

    /**
     * dmar_fault_do_one(): interrupt-remapping reasons (0x20-0x26) print the "[INTR-REMAP]" line with the
     * interrupt index taken from FI bits 63:48.
     */
    @Test
    void dmarFaultDoOne_interruptRemappingReason_printsIntrRemapLine() {
        assertThat(DmarFaultHandler.dmarFaultDoOne(1, 0x22, IommuCore.IOMMU_PASID_INVALID, SID, 0x0005L << 48))
                .isEqualTo("DMAR: [INTR-REMAP] Request device [00:02.0] fault index 0x5 [fault reason 0x22] "
                        + "Present field in the IRTE entry is clear");
        assertThat(DmarFaultReasons.get(0x26)).isEqualTo(new DmarFaultReasons.Reason(
                DmarFaultReasons.FaultType.INTR_REMAP, "Blocked an interrupt request due to source-id verification failure"));
        assertThat(DmarFaultReasons.get(0x27).type()).isEqualTo(DmarFaultReasons.FaultType.UNKNOWN);
    }
}
