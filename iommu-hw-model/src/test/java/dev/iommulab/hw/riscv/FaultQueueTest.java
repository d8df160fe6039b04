package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fault queue: record layout, TTYP, {@code fqcsr} error latching, DTF, and the {@code ipsr.fip} edge
 * rule (riscv-iommu "Fault/Event-Queue (FQ)", registers {@code fqcsr} and {@code ipsr}; reference/iommu-hardware.md
 * §2.4.2, §3.1, §3.2).
 */
class FaultQueueTest {

    private final RiscvFixture f = new RiscvFixture();

    @Test
    void record_untranslatedReadWithPasid_allFieldsInPlace() {
        f.attachSva(0);
        f.enableFq(8, false);

        f.iommu.memoryRequest(new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID, VA + 0x123, 4, Access.READ,
                false, null));

        long base = f.fqBase;
        long dw0 = f.memory.readLong(base);
        assertThat(dw0 & 0xfff).isEqualTo(RiscvCause.READ_PAGE_FAULT);
        assertThat(dw0 >>> 12 & 0xfffff).isEqualTo(PASID);
        assertThat(dw0 >>> 32 & 1).as("PV").isEqualTo(1);
        assertThat(dw0 >>> 33 & 1).as("PRIV").isZero();
        assertThat(dw0 >>> 34 & 0x3f).isEqualTo(RiscvFaultRecord.TTYP_UNTRANSLATED_READ);
        assertThat(dw0 >>> 40).isEqualTo(DID);
        assertThat(f.memory.readLong(base + 8)).isZero();
        assertThat(f.memory.readLong(base + 16)).isEqualTo(VA + 0x123);
        assertThat(f.memory.readLong(base + 24)).isZero();
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(1);
    }

    @ParameterizedTest
    @CsvSource({"READ, 2, 13", "WRITE, 3, 15", "EXEC, 1, 12"})
    void record_accessType_ttypAndCauseFollowIt(Access access, int ttyp, int cause) {
        f.attachSva(0);
        f.enableFq(8, false);

        f.iommu.memoryRequest(new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID, VA, 8, access, false,
                access == Access.WRITE ? WriteData.of(new byte[8]) : null));

        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.ttyp()).isEqualTo(ttyp);
            assertThat(r.cause()).isEqualTo(cause);
        });
    }

    @Test
    void record_withoutPasid_pidPvPrivZero() {
        f.attachNoPasid(0);
        f.enableFq(8, false);

        f.iommu.memoryRequest(RiscvFixture.readNoPasid(VA));

        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.pv()).isFalse();
            assertThat(r.pid()).isZero();
            assertThat(r.priv()).isFalse();
        });
        assertThat(f.lastFault().pasid()).isEqualTo(-1);
    }

    @Test
    void record_queueDisabled_faultDetectedButNotRecorded() {
        f.attachSva(0);

        f.iommu.memoryRequest(read(VA));

        assertThat(f.faults).singleElement().extracting(HwFault::recorded).isEqualTo(false);
    }

    @Test
    void record_ringWrapsAtLog2sz() {
        f.attachSva(0);
        f.enableFq(4, false);
        for (int i = 0; i < 3; i++) {
            f.iommu.memoryRequest(read(VA + 0x1000L * i));
        }
        f.iommu.writeReg(RiscvRegs.FQH, 3);

        f.iommu.memoryRequest(read(VA + 0x5000));

        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
        assertThat(RiscvFaultRecord.readFrom(f.memory, f.fqBase + 3L * RiscvRegs.FQ_ENTRY_SIZE).iotval())
                .isEqualTo(VA + 0x5000);
        assertThat(f.faults).allMatch(HwFault::recorded);
    }

    @Test
    void record_fieDisabled_noInterruptNoFip() {
        f.attachSva(0);
        f.enableFq(8, false);

        f.iommu.memoryRequest(read(VA));
        f.loop.runUntilIdle();

        assertThat(f.fqInterrupts).isZero();
        assertThat(f.reg32(RiscvRegs.IPSR)).isZero();
    }

    @Test
    void fqcsr_enableFieWithOverflowPending_raisesFip() {
        f.attachSva(0);
        f.enableFq(2, false);
        f.iommu.memoryRequest(read(VA));
        f.iommu.memoryRequest(read(VA + 0x1000));
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isNotZero();

        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE);
        f.loop.runUntilIdle();

        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_FIP).isNotZero();
        assertThat(f.fqInterrupts).isEqualTo(1);
    }

    @Test
    void ipsr_clearFipWhileOverflowPending_fipSetAgainWithNewInterrupt() {
        f.attachSva(0);
        f.enableFq(2, true);
        f.iommu.memoryRequest(read(VA));
        f.iommu.memoryRequest(read(VA + 0x1000));
        f.loop.runUntilIdle();
        assertThat(f.fqInterrupts).isEqualTo(1);

        f.iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_FIP);
        f.loop.runUntilIdle();

        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_FIP).isNotZero();
        assertThat(f.fqInterrupts).isEqualTo(2);
    }

    @Test
    void ipsr_clearErrorThenFip_staysClear() {
        f.attachSva(0);
        f.enableFq(2, true);
        f.iommu.memoryRequest(read(VA));
        f.iommu.memoryRequest(read(VA + 0x1000));

        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE | RiscvRegs.FQCSR_FQOF);
        f.iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_FIP);
        f.loop.runUntilIdle();

        assertThat(f.reg32(RiscvRegs.IPSR)).isZero();
        assertThat(f.fqInterrupts).isEqualTo(1);
    }

    @Test
    void dtf_readAccessFault_suppressedButDdtFaultsNot() {
        assertThat(IntStream.of(256, 257, 258, 259, 268, 272, 273)).allMatch(RiscvCause::reportedWhenDtf);
        assertThat(IntStream.of(1, 4, 5, 6, 7, 12, 13, 15, 20, 21, 23, 260, 261, 262, 263, 264, 265, 266, 267, 269,
                270, 271, 274)).noneMatch(RiscvCause::reportedWhenDtf);
    }

    @Test
    void dtf_processContextNotValid_notRecordedButDeviceStillGetsError() {
        f.attachSva(RiscvDeviceContext.TC_DTF);
        f.enableFq(8, true);

        boolean ok = f.iommu.memoryRequest(new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID + 1, PA, 8,
                Access.READ, false, null)).ok();
        f.loop.runUntilIdle();

        assertThat(ok).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.PDT_NOT_VALID);
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.fqInterrupts).isZero();
    }
}
