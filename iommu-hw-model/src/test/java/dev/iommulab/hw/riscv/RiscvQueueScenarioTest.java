package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.pageRequest;
import static dev.iommulab.hw.riscv.RiscvFixture.stopMarker;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.Test;

/**
 * The RISC-V behavioural scenarios of reference/iommu-hardware.md §6 about the page-request queue and the
 * IOMMU's own PRG responses (8-12) and the command queue's ATS.INVAL timeout (14), one test each, against the
 * model programmed through memory and registers only. Scenarios 1-7 and 13 are in
 * {@link RiscvFaultScenarioTest}.
 */
class RiscvQueueScenarioTest {

    private final RiscvFixture f = new RiscvFixture();

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
                tuple(4, PrgResponseCode.SUCCESS));
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
