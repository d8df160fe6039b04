package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.ats;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;

/**
 * The RISC-V behavioural scenarios of reference/iommu-hardware.md §6 about fault recording and ATS outcomes
 * (1-7) and A/D updates (13), one test each, against the model programmed through memory and registers only.
 * Each checks the three outputs apart (§5): the response to the device, the record (or its loss), and the
 * interrupt. Scenarios 8-12 and 14 are in {@link RiscvQueueScenarioTest}.
 */
class RiscvFaultScenarioTest {

    private static final int OTHER_DID = 0x0200;

    private final RiscvFixture f = new RiscvFixture();

    private void fillFaultQueue(int records) {
        for (int i = 0; i < records; i++) {
            assertThat(f.iommu.memoryRequest(read(VA + 0x1000L * i)).ok()).isFalse();
        }
    }

    /** §6.1 (RV-MQ FQ, RV-REG fqcsr, RV-REF report_fault): a full FQ drops the record and latches fqof. */
    @Test
    void scenario01_fqOverflow_dropsAndLatches() {
        f.attachSva(0);
        long dcE = f.dcAddress(OTHER_DID);
        RiscvDeviceContext.readFrom(f.memory, f.dcAddress(DID)).writeTo(f.memory, dcE);
        f.enableFq(4, true);
        fillFaultQueue(3);
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(3);
        f.iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_FIP);
        f.loop.runUntilIdle();
        int interrupts = f.fqInterrupts;

        DmaCompletion d = f.iommu.memoryRequest(read(VA + 0x10_0000));
        f.loop.runUntilIdle();

        assertThat(d.status()).isEqualTo(CompletionStatus.UR);
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.READ_PAGE_FAULT);
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isNotZero();
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(3);
        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_FIP).isNotZero();
        assertThat(f.fqInterrupts).isEqualTo(interrupts + 1);

        f.iommu.writeReg(RiscvRegs.FQH, 3); // software drains: room again, but fqof still latched
        DmaCompletion e = f.iommu.memoryRequest(new DmaRequest(OTHER_DID, AddressType.UNTRANSLATED, true, PASID, VA, 8, Access.READ, false, null));
        assertThat(e.ok()).isFalse();
        assertThat(f.lastFault().rid()).isEqualTo(OTHER_DID);
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(3);

        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE | RiscvRegs.FQCSR_FQOF);
        f.iommu.memoryRequest(read(VA));
        assertThat(f.lastFault().recorded()).isTrue();
        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
    }

    /** §6.2 (RV-REG fqcsr): a record write outside memory sets fqmf; re-enabling the queue clears it. */
    @Test
    void scenario02_fqRecordWriteFault_setsFqmfUntilReenabled() {
        f.attachSva(0);
        f.iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(RiscvFixture.MEMORY_SIZE, 8));
        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE);

        f.iommu.memoryRequest(read(VA));
        f.iommu.memoryRequest(read(VA + 0x1000));
        f.loop.runUntilIdle();

        assertThat(f.faults).extracting(HwFault::recorded).containsExactly(false, false);
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQMF).isNotZero();
        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
        assertThat(f.fqInterrupts).isEqualTo(1);

        f.iommu.writeReg(RiscvRegs.FQCSR, 0);
        f.enableFq(8, true);
        assertThat(f.reg32(RiscvRegs.FQCSR) & (RiscvRegs.FQCSR_FQMF | RiscvRegs.FQCSR_FQOF)).isZero();
        assertThat(f.reg32(RiscvRegs.FQT)).isZero();
        f.iommu.memoryRequest(read(VA + 0x2000));
        assertThat(f.lastFault().recorded()).isTrue();
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::iotval).isEqualTo(VA + 0x2000);
    }

    /** §6.3 (RV-MQ table, RV-I136): DTF hides page faults, but not a DDT fault (DTF is taken as 0 there). */
    @Test
    void scenario03_dtf_suppressesTranslationFaultsOnly() {
        f.attachSva(RiscvDeviceContext.TC_DTF);
        f.enableFq(8, true);

        DmaCompletion pageFault = f.iommu.memoryRequest(read(VA));
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));
        f.enableCq(16, false);
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));
        DmaCompletion ddtFault = f.iommu.memoryRequest(read(VA));

        assertThat(pageFault.ok()).isFalse();
        assertThat(ddtFault.ok()).isFalse();
        assertThat(f.faults).extracting(HwFault::vendorCode, HwFault::recorded).containsExactly(
                tuple(RiscvCause.READ_PAGE_FAULT, false),
                tuple(RiscvCause.DDT_NOT_VALID, true));
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::cause).isEqualTo(RiscvCause.DDT_NOT_VALID);
    }

    /** §6.4 (RV-I583, RV-SW): with fip already set, a new record sends no MSI until software clears fip. */
    @Test
    void scenario04_fipAlreadySet_noNewInterruptUntilCleared() {
        f.attachSva(0);
        f.enableFq(8, true);
        f.iommu.memoryRequest(read(VA));
        f.loop.runUntilIdle();
        assertThat(f.fqInterrupts).isEqualTo(1);

        f.iommu.memoryRequest(read(VA + 0x1000));
        f.loop.runUntilIdle();
        assertThat(f.fqRecords()).hasSize(2);
        assertThat(f.fqInterrupts).isEqualTo(1);

        f.iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_FIP);
        f.loop.runUntilIdle();
        assertThat(f.fqInterrupts).as("no error bit pending: clearing fip alone sends nothing").isEqualTo(1);
        f.iommu.memoryRequest(read(VA + 0x2000));
        f.loop.runUntilIdle();
        assertThat(f.fqInterrupts).isEqualTo(2);
    }

    /** §6.5 (RV-DS ATS_FAULTS): an ATS request for an invalid PTE gets Success R = W = 0, nothing recorded. */
    @Test
    void scenario05_atsPageFault_successWithoutRightsAndNoRecord() {
        f.attachSva(0);
        f.enableFq(8, true);

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isFalse();
        assertThat(c.write()).isFalse();
        assertThat(f.faults).isEmpty();
        assertThat(f.fqRecords()).isEmpty();
    }

    /** §6.6 (RV-DS ATS_FAULTS): a PDT entry load access fault (265) on an ATS request gives CA and a TTYP 8 record. */
    @Test
    void scenario06_atsPdtLoadFault_completerAbortAndRecord() {
        f.attachSva(0);
        f.enableFq(8, true);
        int pdi1 = PASID >>> 8 & 0x1ff;
        f.memory.writeLong(f.pdtRoot + 8L * pdi1, RiscvDeviceContext.nonLeaf(RiscvFixture.MEMORY_SIZE));

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.CA);
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.cause()).isEqualTo(RiscvCause.PDT_LOAD_ACCESS_FAULT);
            assertThat(r.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_ATS_TRANSLATION_REQUEST);
            assertThat(r.pv()).isTrue();
            assertThat(r.pid()).isEqualTo(PASID);
            assertThat(r.did()).isEqualTo(DID);
            assertThat(r.iotval()).isEqualTo(VA);
        });
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.PASID_TABLE_FETCH_ERROR);
    }

    /** §6.7 (RV-DS, RV-REF): EN_ATS = 0: a Translation Request gets UR, a Translated request is aborted; both 260. */
    @Test
    void scenario07_atsDisabled_unsupportedRequestAndCause260() {
        f.attachNoPasid(0);
        f.enableFq(8, true);

        AtsCompletion c = f.iommu.translationRequest(new AtsTranslationRequest(DID, false, 0,
                VA, false, false, false));
        DmaCompletion d = f.iommu.memoryRequest(RiscvFixture.translated(PA, Access.READ));

        assertThat(c.status()).isEqualTo(CompletionStatus.UR);
        assertThat(d.ok()).isFalse();
        assertThat(f.fqRecords()).extracting(RiscvFaultRecord::cause, RiscvFaultRecord::ttyp).containsExactly(
                tuple(260, RiscvFaultRecord.TTYP_ATS_TRANSLATION_REQUEST),
                tuple(260, RiscvFaultRecord.TTYP_TRANSLATED_READ));
        assertThat(f.faults).extracting(HwFault::reason).containsOnly(HwFaultReason.REQUEST_TYPE_DISALLOWED);
    }

    /** §6.13 (RV-DS DC fields): SADE = 0 and A = 0 is a read page fault; SADE = 1 sets A and the read succeeds. */
    @Test
    void scenario13_accessedClearWithoutHardwareUpdate_pageFault() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_SADE));
        f.enableCq(16, false);
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));
        long pte = f.map(VA, PA, RiscvPte.R | RiscvPte.W | RiscvPte.U);

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.READ_PAGE_FAULT);
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.ACCESS_FLAG);
        assertThat(f.memory.readLong(pte) & RiscvPte.A).isZero();

        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_SADE));
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));
        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
        assertThat(f.memory.readLong(pte) & RiscvPte.A).isNotZero();
        assertThat(f.memory.readLong(pte) & RiscvPte.D).as("a read does not set D").isZero();
    }
}
