package dev.iommulab.hw.pgtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The address arithmetic of the RISC-V paging modes. Derives from the RISC-V Privileged
 * Architecture: Sv39/Sv48/Sv57 VAs must be sign-extended from bit 38/47/56; the x4 G-stage forms
 * widen the GPA by two bits (41/50/59), consumed by an 11-bit root VPN, with a 16 KiB root, and
 * require GPA bits above the width to be zero (hypervisor "Guest Physical Address Translation";
 * riscv-iommu iohgatp: "The root page table ... is 16 KiB and must be aligned to a 16-KiB boundary").
 */
class RiscvPagingModeTest {

    /** Sv39: bits 63:39 must equal bit 38. */
    @Test
    void isValidInputAddress_sv39_requiresSignExtensionFromBit38() {
        RiscvPagingMode sv39 = RiscvPagingMode.SV39;

        assertThat(sv39.isValidInputAddress(0x0000_003f_ffff_ffffL)).isTrue();
        assertThat(sv39.isValidInputAddress(0xffff_ffc0_0000_0000L)).isTrue();
        assertThat(sv39.isValidInputAddress(0x0000_0040_0000_0000L)).isFalse();
        assertThat(sv39.isValidInputAddress(0xffff_ff80_0000_0000L)).isFalse();
        assertThat(sv39.isValidInputAddress(0x8000_0000_0000_1000L)).isFalse();
    }

    /** Sv48 and Sv57 sign-extend from bits 47 and 56. */
    @Test
    void isValidInputAddress_sv48AndSv57_signExtendFromTheirTopBit() {
        assertThat(RiscvPagingMode.SV48.isValidInputAddress(0x0000_7fff_ffff_f000L)).isTrue();
        assertThat(RiscvPagingMode.SV48.isValidInputAddress(0x0000_8000_0000_0000L)).isFalse();
        assertThat(RiscvPagingMode.SV48.isValidInputAddress(0xffff_8000_0000_0000L)).isTrue();
        assertThat(RiscvPagingMode.SV57.isValidInputAddress(0x00ff_ffff_ffff_f000L)).isTrue();
        assertThat(RiscvPagingMode.SV57.isValidInputAddress(0x0100_0000_0000_0000L)).isFalse();
        assertThat(RiscvPagingMode.SV57.isValidInputAddress(0xff00_0000_0000_0000L)).isTrue();
    }

    /** x4 forms: the GPA is zero-extended; a set bit at or above the width is invalid, sign or not. */
    @Test
    void isValidInputAddress_gStage_requiresZeroExtension() {
        assertThat(RiscvPagingMode.SV39X4.isValidInputAddress((1L << 41) - 1)).isTrue();
        assertThat(RiscvPagingMode.SV39X4.isValidInputAddress(1L << 41)).isFalse();
        assertThat(RiscvPagingMode.SV39X4.isValidInputAddress(-4096L)).isFalse();
        assertThat(RiscvPagingMode.SV48X4.isValidInputAddress((1L << 50) - 1)).isTrue();
        assertThat(RiscvPagingMode.SV48X4.isValidInputAddress(1L << 50)).isFalse();
        assertThat(RiscvPagingMode.SV57X4.isValidInputAddress((1L << 59) - 1)).isTrue();
        assertThat(RiscvPagingMode.SV57X4.isValidInputAddress(1L << 59)).isFalse();
    }

    /** VPN[i] is 9 bits at each level; the x4 root VPN is 11 bits (GPA[40:30] for Sv39x4). */
    @Test
    void index_x4Root_usesElevenBits() {
        long gpa = (0x7ffL << 30) | (0x155L << 21) | (0x0aaL << 12);

        assertThat(RiscvPagingMode.SV39X4.index(gpa, 2)).isEqualTo(0x7ff);
        assertThat(RiscvPagingMode.SV39X4.index(gpa, 1)).isEqualTo(0x155);
        assertThat(RiscvPagingMode.SV39X4.index(gpa, 0)).isEqualTo(0x0aa);
        assertThat(RiscvPagingMode.SV39.index(gpa, 2)).isEqualTo(0x1ff);
        assertThat(RiscvPagingMode.SV48X4.index(0x3ffL << 39, 3)).isEqualTo(0x3ff);
        assertThat(RiscvPagingMode.SV48X4.index(0x3ffL << 39, 2)).isZero();
        assertThat(RiscvPagingMode.SV57X4.index(1L << 58, 4)).isEqualTo(0x400);
    }

    /** Root tables: 4 KiB for first stage, 16 KiB for G-stage; MODE encodings 8, 9, 10. */
    @Test
    void rootTableSizeAndEncoding_matchIosatpAndIohgatp() {
        assertThat(RiscvPagingMode.SV39.rootTableSize()).isEqualTo(4096);
        assertThat(RiscvPagingMode.SV57.rootTableSize()).isEqualTo(4096);
        assertThat(RiscvPagingMode.SV39X4.rootTableSize()).isEqualTo(16384);
        assertThat(RiscvPagingMode.SV48X4.rootTableSize()).isEqualTo(16384);
        assertThat(RiscvPagingMode.SV39.encoding()).isEqualTo(8);
        assertThat(RiscvPagingMode.SV48X4.encoding()).isEqualTo(9);
        assertThat(RiscvPagingMode.SV57X4.encoding()).isEqualTo(10);
        assertThat(RiscvPagingMode.SV39X4.stage()).isEqualTo(RiscvWalkResult.Stage.G_STAGE);
        assertThat(RiscvPagingMode.SV48.stage()).isEqualTo(RiscvWalkResult.Stage.FIRST_STAGE);
    }

    /** A leaf at level i maps 2^(12 + 9i) bytes; a mode has pages up to its root level only. */
    @Test
    void levelOf_pageSizes_mapToLevelsWithinTheMode() {
        assertThat(RiscvPagingMode.SV39.levelOf(4096)).isZero();
        assertThat(RiscvPagingMode.SV39.levelOf(2L << 20)).isEqualTo(1);
        assertThat(RiscvPagingMode.SV39.levelOf(1L << 30)).isEqualTo(2);
        assertThat(RiscvPagingMode.SV48.levelOf(512L << 30)).isEqualTo(3);
        assertThatThrownBy(() -> RiscvPagingMode.SV39.levelOf(512L << 30))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RiscvPagingMode.SV39.levelOf(8192))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
