package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.pageRequest;
import static dev.iommulab.hw.riscv.RiscvFixture.stopMarker;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.Test;

/**
 * The page-request queue: 16-byte records, {@code pqcsr}, {@code ipsr.pip}, and the IOMMU's own PRG
 * responses by cause (riscv-iommu "Page-Request-Queue (PQ)" and "PCIe ATS Page Request handling";
 * reference/iommu-hardware.md §2.4.3, §3.1; RV-REF {@code handle_page_request}).
 */
class PageRequestQueueTest {

    private final RiscvFixture f = new RiscvFixture();

    private PrgResponse onlyResponse() {
        f.loop.runUntilIdle();
        assertThat(f.function.responses).hasSize(1);
        return f.function.responses.get(0);
    }

    @Test
    void receive_privilegedExecRequest_recordHoldsEveryField() {
        f.attachSva(0);
        f.enablePq(8, false);

        f.iommu.pageRequest(new PageRequestMessage(DID, true, PASID, true, true, true, true, true, 0x1a5, VA + 0x7000));

        long dw0 = f.memory.readLong(f.pqBase);
        long payload = f.memory.readLong(f.pqBase + 8);
        assertThat(dw0 & 0xfff).isZero();
        assertThat(dw0 >>> 12 & 0xfffff).isEqualTo(PASID);
        assertThat(dw0 >>> 32 & 7).as("PV, PRIV, EXEC").isEqualTo(7);
        assertThat(dw0 >>> 40).isEqualTo(DID);
        assertThat(payload & 7).as("R, W, L").isEqualTo(7);
        assertThat(payload >>> 3 & 0x1ff).isEqualTo(0x1a5);
        assertThat(payload & ~0xfffL).isEqualTo(VA + 0x7000);
        assertThat(f.reg32(RiscvRegs.PQT)).isEqualTo(1);
        assertThat(f.function.responses).isEmpty();
    }

    @Test
    void receive_withoutPasid_privAndExecZero() {
        f.attachSva(0);
        f.enablePq(8, false);

        f.iommu.pageRequest(new PageRequestMessage(DID, false, 0, false, false, false, true, false, 3, VA));

        assertThat(f.pqRecords()).singleElement().satisfies(r -> {
            assertThat(r.pv()).isFalse();
            assertThat(r.priv()).isFalse();
            assertThat(r.exec()).isFalse();
            assertThat(r.write()).isTrue();
            assertThat(r.last()).isFalse();
        });
    }

    @Test
    void receive_stopMarker_queuedNotAnswered() {
        f.attachSva(0);
        f.enablePq(8, false);

        f.iommu.pageRequest(stopMarker());
        f.loop.runUntilIdle();

        assertThat(f.pqRecords()).singleElement().satisfies(r -> assertThat(r.toMessage()).isEqualTo(stopMarker()));
        assertThat(f.function.responses).isEmpty();
    }

    @Test
    void receive_newRecord_pipEdgeOnlyOnce() {
        f.attachSva(0);
        f.enablePq(8, true);

        f.iommu.pageRequest(pageRequest(1, false));
        f.iommu.pageRequest(pageRequest(1, true));
        f.loop.runUntilIdle();

        assertThat(f.pqInterrupts).isEqualTo(1);
        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_PIP).isNotZero();
    }

    @Test
    void receive_modeOff_responseFailureAndCause256() {
        f.enableFq(8, false);

        PrgResponse r = respondTo(pageRequest(2, true));

        assertThat(r.code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(r.pasidPresent()).isTrue();
        assertThat(f.fqRecords()).singleElement().satisfies(rec -> {
            assertThat(rec.cause()).isEqualTo(RiscvCause.ALL_INBOUND_DISALLOWED);
            assertThat(rec.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_PCIE_MESSAGE);
        });
    }

    private PrgResponse respondTo(PageRequestMessage m) {
        f.iommu.pageRequest(m);
        return onlyResponse();
    }

    @Test
    void receive_modeBare_invalidRequestWithoutPasid() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_BARE, 0));

        PrgResponse r = respondTo(pageRequest(2, true));

        assertThat(r.code()).isEqualTo(PrgResponseCode.INVALID_REQUEST);
        assertThat(r.pasidPresent()).as("PRPR taken as 0 without a device context").isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
    }

    @Test
    void receive_deviceIdTooWide_invalidRequest() {
        f.ddt(RiscvRegs.DDTP_MODE_1LVL);

        PrgResponse r = respondTo(pageRequest(2, true));

        assertThat(r.code()).isEqualTo(PrgResponseCode.INVALID_REQUEST);
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.DEVICE_ID_OUT_OF_RANGE);
    }

    @Test
    void receive_ddtMisconfigured_responseFailure() {
        f.attachSva(0);
        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_SXL));

        assertThat(respondTo(pageRequest(2, true)).code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
    }

    @Test
    void receive_enPriZeroNonLast_discardedButRecorded() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_EN_PRI));

        f.iommu.pageRequest(pageRequest(2, false));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).isEmpty();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
    }

    @Test
    void receive_recordWriteOutsideMemory_pqmfAndResponseFailureUntilCleared() {
        f.attachSva(0);
        f.iommu.writeReg(RiscvRegs.PQB, RiscvRegs.queueBase(RiscvFixture.MEMORY_SIZE, 8));
        f.iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN | RiscvRegs.PQCSR_PIE);

        f.iommu.pageRequest(pageRequest(1, true));
        f.iommu.pageRequest(pageRequest(2, true));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).extracting(PrgResponse::code).containsOnly(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(f.function.responses).extracting(PrgResponse::prgi).containsExactly(1, 2);
        assertThat(f.reg32(RiscvRegs.PQCSR) & RiscvRegs.PQCSR_PQMF).isNotZero();
        assertThat(f.pqInterrupts).isEqualTo(1);
        assertThat(f.faults).isEmpty();
    }

    @Test
    void pqcsr_reenable_clearsErrorsAndTail() {
        f.attachSva(0);
        f.enablePq(2, false);
        f.iommu.pageRequest(pageRequest(1, true));
        f.iommu.pageRequest(pageRequest(2, true));
        assertThat(f.reg32(RiscvRegs.PQCSR) & RiscvRegs.PQCSR_PQOF).isNotZero();

        f.iommu.writeReg(RiscvRegs.PQCSR, 0);
        f.iommu.pageRequest(pageRequest(3, true));
        f.iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN);
        f.iommu.writeReg(RiscvRegs.PQH, 0);

        assertThat(f.reg32(RiscvRegs.PQCSR)).isEqualTo(RiscvRegs.PQCSR_PQEN | RiscvRegs.PQCSR_PQON);
        assertThat(f.reg32(RiscvRegs.PQT)).isZero();
        f.loop.runUntilIdle();
        assertThat(f.function.responses).extracting(PrgResponse::prgi, PrgResponse::code).containsExactly(
                org.assertj.core.groups.Tuple.tuple(2, PrgResponseCode.SUCCESS),
                org.assertj.core.groups.Tuple.tuple(3, PrgResponseCode.RESPONSE_FAILURE));
    }

    @Test
    void receive_autoResponseOff_lastRequestDroppedWithoutResponse() {
        RiscvConfig base = RiscvConfig.defaults("r");
        RiscvFixture g = new RiscvFixture(new RiscvConfig(base.name(), base.capabilities(), base.iotlbEntries(),
                base.ddtCacheEntries(), base.pdtCacheEntries(), base.atsInvalidationTimeoutNs(), false));
        g.attachSva(0);

        g.iommu.pageRequest(pageRequest(4, true));
        g.loop.runUntilIdle();

        assertThat(g.function.responses).isEmpty();
    }

    @Test
    void receive_responseFailureWithoutPasidRequest_noPasid() {
        f.attachSva(0);

        PrgResponse r = respondTo(new PageRequestMessage(DID, false, 0, false, false, true, false, true, 8, VA));

        assertThat(r.code()).isEqualTo(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(r.pasidPresent()).isFalse();
    }
}
