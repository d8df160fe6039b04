package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static dev.iommulab.hw.vtd.VtdFixture.pageRequest;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;

/**
 * The page request queue's size from PQA.PQS (2^PQS pages of 32-byte descriptors, one slot short when
 * full), its processing latency, the masked page request event, the PASID checks of Table 31 and the
 * structure caches it shares with DMA. Derives from reference/iommu-hardware.md §2.1.3 (PQA/PQS, PECTL)
 * and linux-fault-stack.md §6.1 (ring full when tail is one behind head).
 */
class PageRequestQueueSizeTest {

    private static final long VA = 0x0000_7f00_0000_0000L;

    private final VtdFixture f = new VtdFixture().attachSvaDevice();

    private void send(PageRequestMessage m) {
        f.unit.pageRequest(m);
        f.settle();
    }

    /** PQS = 1: two pages, 256 slots, 255 usable; the 256th request sets PRO. */
    @Test
    void pqs1_ringHolds255RequestsThenOverflows() {
        long ring = f.allocateFrame();
        f.allocateFrame();
        f.unit.writeReg(VtdRegs.PQA, ring | 1);

        for (int i = 0; i < 255; i++) {
            f.unit.pageRequest(pageRequest(i & PageRequestMessage.PRGI_MASK, false, VA + 0x1000L * i));
        }
        f.settle();
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(255L * VtdRegs.DESC_SIZE);
        assertThat(f.prs() & VtdRegs.PRS_PRO).isZero();

        send(pageRequest(1, false, VA));
        assertThat(f.prs() & VtdRegs.PRS_PRO).isEqualTo(VtdRegs.PRS_PRO);
    }

    /** A request is written one context/PASID walk after it arrives. */
    @Test
    void pageRequest_writtenOneWalkLatencyAfterArrival() {
        f.enablePageRequestQueue();

        f.unit.pageRequest(pageRequest(1, true, VA));
        f.loop.runFor(TimingModel.ESTIMATES.iommuWalkNs() - 1);
        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
        f.loop.runFor(1);

        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(VtdRegs.DESC_SIZE);
    }

    /** PECTL.IM: the event condition sets IP; unmasking delivers it. */
    @Test
    void pageRequestEvent_masked_setsIpAndDeliversOnUnmask() {
        f.enablePageRequestQueue();
        f.unit.writeReg(VtdRegs.PECTL, VtdRegs.ECTL_IM);
        send(pageRequest(1, true, VA));
        assertThat(f.prqInterrupts).isZero();
        assertThat(f.unit.readReg(VtdRegs.PECTL) & VtdRegs.ECTL_IP).isNotZero();

        f.unit.writeReg(VtdRegs.PECTL, 0);
        f.settle();

        assertThat(f.prqInterrupts).isEqualTo(1);
    }

    /** Table 31: a PASID beyond PDTS (0x46) or PASIDE clear (0x45) is a remapping-table fault: Invalid Request. */
    @Test
    void pageRequest_pasidBeyondPdtsOrPasideClear_invalidRequest() {
        f.enablePageRequestQueue();
        send(new PageRequestMessage(RID, true, 8192, false, false, true, false, true, 2, VA));
        f.attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PRE);
        f.submitContextInvalidation();
        send(pageRequest(3, true, VA));

        assertThat(f.faultCodes()).containsExactly(0x46, 0x45);
        assertThat(f.function.responses).extracting(PrgResponse::wireCode)
                .containsExactly(PrgResponseCode.INVALID_REQUEST.wire(), PrgResponseCode.INVALID_REQUEST.wire());
        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
    }

    /** Page requests go through the same context cache as DMA: a cleared context entry is used until invalidated. */
    @Test
    void pageRequest_contextClearedInMemory_cachedEntryUsedUntilContextInvalidation() {
        f.enablePageRequestQueue();
        send(pageRequest(1, true, VA));
        f.memory.writeLong(f.contextAddr, 0);

        send(pageRequest(2, true, VA));
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(2L * VtdRegs.DESC_SIZE);

        f.submitContextInvalidation();
        send(pageRequest(3, true, VA));
        assertThat(f.faultCodes()).containsExactly(0x41);
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, 3, PrgResponseCode.INVALID_REQUEST.wire()));
    }
}
