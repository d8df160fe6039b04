package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The memory-mapped registers of the RISC-V IOMMU: offsets, widths, WARL/RW1C attributes and the reset and
 * enable rules of riscv-iommu chapter "Memory-mapped register interface" (reference/iommu-hardware.md §2.4).
 */
class RiscvRegisterTest {

    private final RiscvFixture f = new RiscvFixture();

    @Test
    void capabilities_read_returnsConfiguredValue() {
        assertThat(f.iommu.readReg(RiscvRegs.CAPABILITIES)).isEqualTo(RiscvConfig.DEFAULT_CAPABILITIES);
        assertThat(f.iommu.readReg(RiscvRegs.CAPABILITIES) & RiscvRegs.CAP_MSI_FLAT).isZero();
        assertThat(f.iommu.readReg(RiscvRegs.CAPABILITIES) >>> RiscvRegs.CAP_PAS_SHIFT & 0x3f).isEqualTo(56);
    }

    @Test
    void capabilities_write_ignored() {
        f.iommu.writeReg(RiscvRegs.CAPABILITIES, 0);

        assertThat(f.iommu.readReg(RiscvRegs.CAPABILITIES)).isEqualTo(RiscvConfig.DEFAULT_CAPABILITIES);
    }

    @Test
    void fctl_igsBoth_onlyWsiWritable() {
        f.iommu.writeReg(RiscvRegs.FCTL, RiscvRegs.FCTL_BE | RiscvRegs.FCTL_WSI | RiscvRegs.FCTL_GXL);

        assertThat(f.reg32(RiscvRegs.FCTL)).isEqualTo(RiscvRegs.FCTL_WSI);
    }

    @Test
    void fctl_igsMsiOnly_wsiStaysZero() {
        RiscvFixture msiOnly = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_IGS_MASK));

        msiOnly.iommu.writeReg(RiscvRegs.FCTL, RiscvRegs.FCTL_WSI);

        assertThat(msiOnly.reg32(RiscvRegs.FCTL)).isZero();
    }

    @Test
    void ddtp_reset_modeOff() {
        assertThat(f.iommu.readReg(RiscvRegs.DDTP)).isEqualTo(RiscvRegs.DDTP_MODE_OFF);
    }

    @Test
    void ddtp_reservedMode_keepsPreviousModeAndTakesPpn() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_2LVL, 0x5000));

        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(7, 0x9000) | RiscvRegs.DDTP_BUSY | 1L << 63);

        assertThat(f.iommu.readReg(RiscvRegs.DDTP)).isEqualTo(RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_2LVL, 0x9000));
    }

    @Test
    void queueBase_reservedBits_dropped() {
        f.iommu.writeReg(RiscvRegs.CQB, RiscvRegs.queueBase(0x20_0000, 64) | 0x3e0 | 0xffL << 56);

        assertThat(f.iommu.readReg(RiscvRegs.CQB)).isEqualTo(RiscvRegs.queueBase(0x20_0000, 64));
    }

    @Test
    void queueBase_nonPowerOfTwo_rejectedBySoftwareHelper() {
        assertThatThrownBy(() -> RiscvRegs.queueBase(0, 12)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void indexRegisters_write_keepOnlyLog2szBits() {
        f.iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(0x20_0000, 8));
        f.iommu.writeReg(RiscvRegs.CQB, RiscvRegs.queueBase(0x21_0000, 16));

        f.iommu.writeReg(RiscvRegs.FQH, 0x1_0000 | 13);
        f.iommu.writeReg(RiscvRegs.CQT, 0x100 | 19);

        assertThat(f.reg32(RiscvRegs.FQH)).isEqualTo(5);
        assertThat(f.reg32(RiscvRegs.CQT)).isEqualTo(3);
    }

    @Test
    void readOnlyIndexRegisters_write_ignored() {
        f.enableFq(8, false);
        f.enableCq(8, false);

        f.iommu.writeReg(RiscvRegs.FQT, 3);
        f.iommu.writeReg(RiscvRegs.CQH, 3);

        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void fqb_smallerQueue_clearsHeadBitsAboveLog2sz() {
        f.iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(0x20_0000, 64));
        f.iommu.writeReg(RiscvRegs.FQH, 37);

        f.iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(0x20_0000, 8));

        assertThat(f.reg32(RiscvRegs.FQH)).isEqualTo(37 & 7);
    }

    @Test
    void csrEnable_zeroToOne_setsOnAndClearsIndexAndErrors() {
        f.attachSva(0);
        f.enableFq(2, false);
        f.iommu.memoryRequest(read(VA));
        f.iommu.memoryRequest(read(VA + 0x1000)); // fqof
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isNotZero();

        f.iommu.writeReg(RiscvRegs.FQCSR, 0);
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQON).isZero();
        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN);

        assertThat(f.reg32(RiscvRegs.FQCSR)).isEqualTo(RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FQON);
        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
    }

    @Test
    void cqcsr_enable_resetsHeadAndSetsCqon() {
        f.enableCq(8, true);

        assertThat(f.reg32(RiscvRegs.CQCSR)).isEqualTo(RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CIE
                | RiscvRegs.CQCSR_CQON);
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void pqRegisters_withoutAtsCapability_readZeroAndIgnoreWrites() {
        RiscvFixture noAts = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_ATS));

        noAts.iommu.writeReg(RiscvRegs.PQB, RiscvRegs.queueBase(0x20_0000, 8));
        noAts.iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN);

        assertThat(noAts.iommu.readReg(RiscvRegs.PQB)).isZero();
        assertThat(noAts.reg32(RiscvRegs.PQCSR)).isZero();
    }

    @Test
    void ipsr_writeOne_clearsOnlyThoseBits() {
        f.attachSva(0);
        f.enableFq(8, true);
        f.enablePq(8, true);
        f.iommu.memoryRequest(read(VA));
        f.iommu.pageRequest(RiscvFixture.pageRequest(1, true));
        assertThat(f.reg32(RiscvRegs.IPSR)).isEqualTo(RiscvRegs.IPSR_FIP | RiscvRegs.IPSR_PIP);

        f.iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_PIP | RiscvRegs.IPSR_CIP);

        assertThat(f.reg32(RiscvRegs.IPSR)).isEqualTo(RiscvRegs.IPSR_FIP);
    }

    @Test
    void icvec_write_readsBack() {
        f.iommu.writeReg(RiscvRegs.ICVEC, 0x3210);

        assertThat(f.iommu.readReg(RiscvRegs.ICVEC)).isEqualTo(0x3210);
    }

    @Test
    void unknownOffset_readsZeroAndIgnoresWrites() {
        f.iommu.writeReg(12, -1);
        f.iommu.writeReg(600, -1);

        assertThat(f.iommu.readReg(12)).isZero();
        assertThat(f.iommu.readReg(600)).isZero();
        assertThat(f.iommu.readReg(1024)).isZero();
    }
}
