package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.ats;
import static dev.iommulab.hw.riscv.RiscvFixture.pageRequest;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static dev.iommulab.hw.riscv.RiscvFixture.stopMarker;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;

/**
 * The RISC-V behavioural scenarios 1 to 14 of reference/iommu-hardware.md §6, one test each, against the
 * model programmed through memory and registers only. Each checks the three outputs apart (§5): the
 * response to the device, the record (or its loss), and the interrupt.
 */
class RiscvScenarioTest {

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
        DmaCompletion e = f.iommu.memoryRequest(new dev.iommulab.hw.iommu.DmaRequest(OTHER_DID,
                dev.iommulab.hw.iommu.AddressType.UNTRANSLATED, true, PASID, VA, 8, Access.READ, false, null));
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
                org.assertj.core.groups.Tuple.tuple(RiscvCause.READ_PAGE_FAULT, false),
                org.assertj.core.groups.Tuple.tuple(RiscvCause.DDT_NOT_VALID, true));
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

        AtsCompletion c = f.iommu.translationRequest(new dev.iommulab.hw.iommu.AtsTranslationRequest(DID, false, 0,
                VA, false, false, false));
        DmaCompletion d = f.iommu.memoryRequest(RiscvFixture.translated(PA, Access.READ));

        assertThat(c.status()).isEqualTo(CompletionStatus.UR);
        assertThat(d.ok()).isFalse();
        assertThat(f.fqRecords()).extracting(RiscvFaultRecord::cause, RiscvFaultRecord::ttyp).containsExactly(
                org.assertj.core.groups.Tuple.tuple(260, RiscvFaultRecord.TTYP_ATS_TRANSLATION_REQUEST),
                org.assertj.core.groups.Tuple.tuple(260, RiscvFaultRecord.TTYP_TRANSLATED_READ));
        assertThat(f.faults).extracting(HwFault::reason).containsOnly(HwFaultReason.REQUEST_TYPE_DISALLOWED);
    }

    /** §6.8 (RV-DS ATS_PRI, RV-REF handle_page_request): a full PQ answers L = 1 with Success; PASID only with PRPR. */
    @Test
    void scenario08_pqFull_autoSuccessWithPasidOnlyWithPrpr() {
        f.attachSva(0);
        f.enableFq(8, true);
        f.enablePq(2, true);
        f.iommu.pageRequest(pageRequest(1, true));

        f.iommu.pageRequest(pageRequest(7, true));
        f.loop.runUntilIdle();

        assertThat(f.reg32(RiscvRegs.PQCSR) & RiscvRegs.PQCSR_PQOF).isNotZero();
        assertThat(f.pqRecords()).extracting(RiscvPageRequestRecord::prgi).containsExactly(1);
        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.prgi()).isEqualTo(7);
            assertThat(r.code()).isEqualTo(PrgResponseCode.SUCCESS);
            assertThat(r.pasidPresent()).isFalse();
        });
        assertThat(f.faults).isEmpty();

        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_PRPR));
        f.enableCq(16, false);
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));
        f.iommu.pageRequest(pageRequest(8, true));
        f.loop.runUntilIdle();
        assertThat(f.function.responses).last().satisfies(r -> {
            assertThat(r.prgi()).isEqualTo(8);
            assertThat(r.pasidPresent()).isTrue();
            assertThat(r.pasid()).isEqualTo(PASID);
        });
    }

    /** §6.9 (RV-REG pqcsr, RV-DS): while pqof is set, L = 0 and stop markers vanish; L = 1 is answered Success. */
    @Test
    void scenario09_pqofLatched_discardsAndAnswersOnlyLast() {
        f.attachSva(0);
        f.enablePq(2, true);
        f.iommu.pageRequest(pageRequest(1, true));
        f.iommu.pageRequest(pageRequest(2, true)); // sets pqof
        f.iommu.writeReg(RiscvRegs.PQH, 1); // room again, but pqof stays until cleared
        f.loop.runUntilIdle();
        f.function.responses.clear();

        f.iommu.pageRequest(pageRequest(3, false));
        f.iommu.pageRequest(stopMarker());
        f.iommu.pageRequest(pageRequest(4, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).extracting(PrgResponse::prgi, PrgResponse::code).containsExactly(
                org.assertj.core.groups.Tuple.tuple(4, PrgResponseCode.SUCCESS));
        assertThat(f.pqRecords()).isEmpty();
        assertThat(f.reg32(RiscvRegs.PQT)).isEqualTo(1);

        f.iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN | RiscvRegs.PQCSR_PIE | RiscvRegs.PQCSR_PQOF);
        f.iommu.pageRequest(stopMarker());
        assertThat(f.pqRecords()).singleElement().satisfies(r -> assertThat(r.toMessage().isStopMarker()).isTrue());
    }

    /** §6.10 (RV-DS, RV-REF): PQ disabled: Response Failure carrying the PASID even with PRPR = 0; no record. */
    @Test
    void scenario10_pqDisabled_responseFailureWithPasid() {
        f.attachSva(0);
        f.enableFq(8, true);

        f.iommu.pageRequest(pageRequest(9, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
            assertThat(r.pasidPresent()).isTrue();
            assertThat(r.pasid()).isEqualTo(PASID);
            assertThat(r.prgi()).isEqualTo(9);
        });
        assertThat(f.faults).isEmpty();
        assertThat(f.fqRecords()).isEmpty();
    }

    /** §6.11 (RV-DS note, RV-REF): EN_PRI = 0 answers Invalid Request and records 260, TTYP 9; DTF hides the record. */
    @Test
    void scenario11_priNotEnabled_invalidRequestAndCause260() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_EN_PRI));
        f.enableFq(8, true);
        f.enablePq(16, true);

        f.iommu.pageRequest(pageRequest(5, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).singleElement().extracting(PrgResponse::code)
                .isEqualTo(PrgResponseCode.INVALID_REQUEST);
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.cause()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
            assertThat(r.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_PCIE_MESSAGE);
            assertThat(r.iotval()).isEqualTo(RiscvFaultRecord.PAGE_REQUEST_MESSAGE_CODE);
        });
        assertThat(f.pqRecords()).isEmpty();

        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_DTF));
        f.enableCq(16, false);
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));
        f.iommu.pageRequest(pageRequest(6, true));
        f.loop.runUntilIdle();
        assertThat(f.function.responses).last().extracting(PrgResponse::code).isEqualTo(PrgResponseCode.INVALID_REQUEST);
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.fqRecords()).hasSize(1);
    }

    /** §6.12 (RV-DS, RV-REF): a page request whose DDT entry is invalid gets Response Failure and a 258 record. */
    @Test
    void scenario12_ddtInvalidDuringPageRequest_responseFailureAnd258() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));
        f.enableFq(8, true);
        f.enablePq(16, true);

        f.iommu.pageRequest(pageRequest(3, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
            assertThat(r.pasidPresent()).isTrue();
        });
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.cause()).isEqualTo(RiscvCause.DDT_NOT_VALID);
            assertThat(r.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_PCIE_MESSAGE);
        });
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.DEVICE_CTX_NOT_PRESENT);
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

    /**
     * §6.14 (RV-MQ, RV-REG cqcsr): an ATS.INVAL that is never answered makes the next IOFENCE.C time out:
     * cmd_to, cqh parked on the fence, later commands held until software clears cmd_to.
     */
    @Test
    void scenario14_atsInvalTimeout_cmdToAndQueueParkedOnFence() {
        f.attachSva(0);
        f.function.answersInvalidations = false;
        f.enableCq(16, true);
        long status = f.fenceStatus();
        long timeout = f.iommu.config().atsInvalidationTimeoutNs();

        f.submit(RiscvCommand.atsInval(DID, true, PASID, false, VA, 4096),
                RiscvCommand.iofenceC(true, false, false, false, status, 0x5a),
                RiscvCommand.atsPrgr(DID, true, PASID, 12, PrgResponseCode.SUCCESS.wire()));
        f.loop.runFor(timeout / 2);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(1);
        assertThat(f.reg32(RiscvRegs.CQCSR) & RiscvRegs.CQCSR_CMD_TO).isZero();

        f.loop.runFor(timeout);
        assertThat(f.function.invalidations).hasSize(1);
        assertThat(f.reg32(RiscvRegs.CQCSR) & RiscvRegs.CQCSR_CMD_TO).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).as("cqh on the fence").isEqualTo(1);
        assertThat(f.memory.readInt(status)).isZero();
        assertThat(f.function.responses).as("the ATS.PRGR after the fence did not run").isEmpty();
        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_CIP).isNotZero();
        assertThat(f.cqInterrupts).isEqualTo(1);

        f.iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CIE | RiscvRegs.CQCSR_CMD_TO);
        f.loop.runFor(timeout);
        assertThat(f.memory.readInt(status)).isEqualTo(0x5a);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(3);
        assertThat(f.function.responses).singleElement().extracting(PrgResponse::prgi).isEqualTo(12);
    }
}
