package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.PRQ_ENTRIES;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static dev.iommulab.hw.vtd.VtdFixture.pageRequest;
import static dev.iommulab.hw.vtd.VtdFixture.stopMarker;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The VT-d page request queue ({@code PQA/PQH/PQT}, {@code PRS.PPR/PRO}, the page request event) and
 * the hardware's own answers to requests it cannot queue. Derives from reference/iommu-hardware.md
 * §2.1.3 (PRQ, Table 31 auto-response), §6 scenarios 32 (overflow), 33 (PRE clear) and 46 (stop
 * markers), and the kernel's {@code struct page_req_dsc} in drivers/iommu/intel/prq.c.
 */
class PageRequestQueueTest {

    private static final long VA = 0x0000_7f00_0000_0000L;
    private static final int USABLE = PRQ_ENTRIES - 1;

    private final VtdFixture f = new VtdFixture();

    private void send(PageRequestMessage message) {
        f.unit.pageRequest(message);
        f.loop.runUntilIdle();
    }

    /** Fills every usable slot (head/tail ring: N - 1) with non-LPIG requests. */
    private void fillQueue() {
        for (int i = 0; i < USABLE; i++) {
            send(pageRequest(i & PageRequestMessage.PRGI_MASK, false, VA + 0x1000L * i));
        }
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo((long) USABLE * VtdRegs.DESC_SIZE);
        assertThat(f.prs() & VtdRegs.PRS_PRO).isZero();
    }

    /**
     * §2.1.3: each request becomes a 32-byte descriptor at PQT ({@code struct page_req_dsc} layout),
     * PQT advances by 32, PPR is set and the page request event fires once.
     */
    @Test
    void pageRequest_queued_writesDescriptorsAtTailSetsPprAndInterruptsOnce() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        PageRequestMessage first = pageRequest(1, false, VA);
        PageRequestMessage second = new PageRequestMessage(RID, true, PASID, false, true, false, true, true, 1,
                VA + 0x1000);
        PageRequestMessage third = pageRequest(2, true, VA + 0x5000);

        send(first);
        send(second);
        send(third);

        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(3L * VtdRegs.DESC_SIZE);
        assertThat(f.prqSlot(0)).isEqualTo(PageRequestDescriptor.of(first));
        assertThat(f.prqSlot(1)).isEqualTo(PageRequestDescriptor.of(second));
        assertThat(f.prqSlot(2)).isEqualTo(PageRequestDescriptor.of(third));
        assertThat(f.prs()).isEqualTo(VtdRegs.PRS_PPR);
        assertThat(f.prqInterrupts).isEqualTo(1);
        assertThat(f.function.responses).isEmpty();
        assertThat(f.faults).isEmpty();
    }

    /** The descriptor bytes themselves: type 1, PASID present, RID, PASID, R/W/L, PRGI and page address. */
    @Test
    void pageRequest_queued_descriptorBytesFollowPageReqDscLayout() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();

        send(new PageRequestMessage(RID, true, PASID, false, true, true, true, true, 0x1a5, VA + 0x3000));

        long qw0 = f.memory.readLong(f.prqBase);
        long qw1 = f.memory.readLong(f.prqBase + 8);
        assertThat(qw0).isEqualTo(0x1L | 1L << 8 | (long) RID << 16 | (long) PASID << 32 | 1L << 53);
        assertThat(qw1).isEqualTo(0b111L | 0x1a5L << 3 | (VA + 0x3000));
        assertThat(f.memory.readLong(f.prqBase + 16)).isZero();
        assertThat(f.memory.readLong(f.prqBase + 24)).isZero();
        PageRequestDescriptor d = f.prqSlot(0);
        assertThat(d.rid()).isEqualTo(RID);
        assertThat(d.pasid()).isEqualTo(PASID);
        assertThat(d.prgIndex()).isEqualTo(0x1a5);
        assertThat(d.addr()).isEqualTo(VA + 0x3000);
        assertThat(d.lpig()).isTrue();
        assertThat(d.pmReq()).isTrue();
        assertThat(d.exeReq()).isFalse();
    }

    /** §2.1.3 (L-VTD commit 46924008273e): a new event needs software to clear PPR first. */
    @Test
    void pageRequest_afterSoftwareClearsPpr_raisesAnotherInterrupt() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        send(pageRequest(1, true, VA));
        send(pageRequest(2, true, VA));
        assertThat(f.prqInterrupts).isEqualTo(1);

        f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        assertThat(f.prs()).isZero();
        send(pageRequest(3, true, VA));

        assertThat(f.prqInterrupts).isEqualTo(2);
        assertThat(f.prs()).isEqualTo(VtdRegs.PRS_PPR);
    }

    /** PECTL.IM masks the page request event. */
    @Test
    void pageRequest_interruptMasked_queuesWithoutInterrupt() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.unit.writeReg(VtdRegs.PECTL, VtdRegs.PECTL_IM);

        send(pageRequest(1, true, VA));

        assertThat(f.prqInterrupts).isZero();
        assertThat(f.prs()).isEqualTo(VtdRegs.PRS_PPR);
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(VtdRegs.DESC_SIZE);
    }

    /** The ring wraps: once software has moved PQH, PQT goes past the end back to offset 0. */
    @Test
    void pageRequest_afterSoftwareDrains_tailWrapsToStartOfRing() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        f.unit.writeReg(VtdRegs.PQH, f.unit.readReg(VtdRegs.PQT));

        PageRequestMessage last = pageRequest(7, true, VA + 0x7000);
        PageRequestMessage wrapped = pageRequest(8, true, VA + 0x8000);
        send(last);
        send(wrapped);

        assertThat(f.prqSlot(PRQ_ENTRIES - 1)).isEqualTo(PageRequestDescriptor.of(last));
        assertThat(f.prqSlot(0)).isEqualTo(PageRequestDescriptor.of(wrapped));
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo(VtdRegs.DESC_SIZE);
        assertThat(f.prs() & VtdRegs.PRS_PRO).isZero();
    }

    /**
     * Scenario 32 / Table 31: a full queue sets PRO, does not queue the request, raises no event while
     * PPR is set, and answers an LPIG request Success through the fabric.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 45: VT-d queue full, LPIG answered Success by the unit")
    void scenario32_queueFullLpig_setsProAndHardwareAnswersSuccess() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        PageRequestDescriptor slot0 = f.prqSlot(0);

        send(pageRequest(0x42, true, VA + 0x100_0000));

        assertThat(f.prs()).isEqualTo(VtdRegs.PRS_PPR | VtdRegs.PRS_PRO);
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo((long) USABLE * VtdRegs.DESC_SIZE);
        assertThat(f.prqSlot(0)).isEqualTo(slot0);
        assertThat(f.prqInterrupts).isEqualTo(1);
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, 0x42, PrgResponseCode.SUCCESS.wire()));
        assertThat(f.faults).isEmpty();
    }

    /**
     * Table 31: a non-LPIG request that cannot be queued is dropped silently: no response, and nothing queued —
     * PQT stays put and neither the slot at the tail nor the one after it (slot 0, where the ring wraps) is written.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 45: VT-d queue full, non-LPIG dropped")
    void scenario32_queueFullNonLpig_setsProAndSendsNothing() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        PageRequestDescriptor atTail = f.prqSlot(USABLE);
        PageRequestDescriptor slot0 = f.prqSlot(0);

        send(pageRequest(0x42, false, VA + 0x100_0000));

        assertThat(f.prs() & VtdRegs.PRS_PRO).isEqualTo(VtdRegs.PRS_PRO);
        assertThat(f.function.responses).isEmpty();
        assertThat(f.unit.readReg(VtdRegs.PQT)).as("PQT").isEqualTo((long) USABLE * VtdRegs.DESC_SIZE);
        assertThat(f.prqSlot(USABLE)).as("slot at the tail").isEqualTo(atTail);
        assertThat(f.prqSlot(0)).as("slot 0").isEqualTo(slot0);
        assertThat(f.prqInterrupts).as("only fillQueue's event").isEqualTo(1);
        assertThat(f.faults).isEmpty();
    }

    /** VtdConfig.autoRespondOnPrqFull = false (QEMU-compatible): nothing is sent for a full queue. */
    @Test
    void scenario32_queueFullWithAutoResponseOff_sendsNothing() {
        VtdFixture qemu = new VtdFixture(new VtdConfig("dmar0", false)).attachSvaDevice();
        qemu.enablePageRequestQueue();
        for (int i = 0; i < USABLE; i++) {
            qemu.unit.pageRequest(pageRequest(i & PageRequestMessage.PRGI_MASK, false, VA));
        }

        qemu.unit.pageRequest(pageRequest(0x42, true, VA));
        qemu.loop.runUntilIdle();

        assertThat(qemu.prs() & VtdRegs.PRS_PRO).isEqualTo(VtdRegs.PRS_PRO);
        assertThat(qemu.function.responses).isEmpty();
    }

    /**
     * Scenario 32: while PRO stays set, requests are not queued even when space has been freed; LPIG
     * requests keep getting Success, stop markers are discarded without response, and no event fires.
     */
    @Test
    void scenario32_proSetWithFreeSpace_notQueuedLpigAnsweredStopMarkerDropped() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        send(pageRequest(1, true, VA));
        f.unit.writeReg(VtdRegs.PQH, f.unit.readReg(VtdRegs.PQT));
        f.function.responses.clear();
        int interrupts = f.prqInterrupts;

        send(pageRequest(2, true, VA));
        send(stopMarker());

        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo((long) USABLE * VtdRegs.DESC_SIZE);
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, 2, PrgResponseCode.SUCCESS.wire()));
        assertThat(f.prqInterrupts).isEqualTo(interrupts);

        f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PRO);
        send(pageRequest(3, true, VA));

        assertThat(f.unit.readReg(VtdRegs.PQT)).as("wrapped to the ring start").isZero();
        assertThat(f.prqSlot(USABLE)).isEqualTo(PageRequestDescriptor.of(pageRequest(3, true, VA)));
    }

    /**
     * §2.1.3 (Table 31): a request with private data needs a response even when it is not the last of its group, so
     * with the queue full the unit answers it Success itself and echoes its private data; the same request without
     * private data is dropped silently.
     */
    @Test
    void pageRequest_queueFullNonLpigWithPrivateData_unitAnswersSuccessEchoingData() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        PageRequestMessage.PrivateData data = new PageRequestMessage.PrivateData(0xd1L, 0xd2L);

        send(new PageRequestMessage(RID, true, PASID, false, false, true, false, false, 0x33, VA, data));
        send(new PageRequestMessage(RID, true, PASID, false, false, true, false, false, 0x34, VA));

        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.prgi()).isEqualTo(0x33);
            assertThat(r.code()).isEqualTo(PrgResponseCode.SUCCESS);
            assertThat(r.privateData()).isEqualTo(data);
        });
        assertThat(f.unit.readReg(VtdRegs.PQT)).isEqualTo((long) USABLE * VtdRegs.DESC_SIZE);
    }

    /** Scenario 32: an overflow raises the page request event when PPR and PRO were both clear. */
    @Test
    void scenario32_queueFullWithPprClear_overflowRaisesEvent() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        fillQueue();
        f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        assertThat(f.prqInterrupts).isEqualTo(1);

        send(pageRequest(5, false, VA));

        assertThat(f.prs()).isEqualTo(VtdRegs.PRS_PRO);
        assertThat(f.prqInterrupts).isEqualTo(2);
    }

    /** Scenario 46: with space, the IOMMU queues a stop marker (LPIG, no R/W) and never answers it. */
    @Test
    void pageRequest_stopMarker_isQueuedAndNotAnswered() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();

        send(stopMarker());

        PageRequestDescriptor d = f.prqSlot(0);
        assertThat(d.lpig()).isTrue();
        assertThat(d.rdReq()).isFalse();
        assertThat(d.wrReq()).isFalse();
        assertThat(d.pasidPresent()).isTrue();
        assertThat(f.function.responses).isEmpty();
    }

    /**
     * Scenario 33 / Table 31: PRE clear in the context entry → fault 0x47, the request is not queued,
     * and the hardware answers an LPIG request Invalid Request (wire 0001b).
     */
    @Test
    void scenario33_preClearLpig_answersInvalidRequestAndReportsFault0x47() {
        f.attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE);
        f.enablePageRequestQueue();

        send(pageRequest(6, true, VA));

        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
        assertThat(f.prs()).isZero();
        assertThat(f.prqInterrupts).isZero();
        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.wireCode()).isEqualTo(0x1);
            assertThat(r.code()).isEqualTo(PrgResponseCode.INVALID_REQUEST);
            assertThat(r.prgi()).isEqualTo(6);
            assertThat(r.pasid()).isEqualTo(PASID);
        });
        assertThat(f.faults).singleElement().satisfies(fault -> {
            assertThat(fault.vendorCode()).isEqualTo(0x47);
            assertThat(fault.reason()).isEqualTo(HwFaultReason.REQUEST_TYPE_DISALLOWED);
            assertThat(fault.addr()).isEqualTo(VA);
            assertThat(fault.recorded()).isTrue();
        });
    }

    /** Table 31: a non-LPIG request hitting a remapping-table fault gets no response, only the fault. */
    @Test
    void scenario33_preClearNonLpig_reportsFaultWithoutResponse() {
        f.attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE);
        f.enablePageRequestQueue();

        send(pageRequest(6, false, VA));

        assertThat(f.function.responses).isEmpty();
        assertThat(f.faultCodes()).containsExactly(0x47);
    }

    /** Table 31: a PASID entry that is not present is a remapping-table fault: Invalid Request, 0x59. */
    @Test
    void pageRequest_pasidEntryNotPresent_answersInvalidRequest() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.memory.writeLong(f.pasidEntryAddr, 0);

        send(pageRequest(7, true, VA));

        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, 7, PrgResponseCode.INVALID_REQUEST.wire()));
        assertThat(f.faultCodes()).containsExactly(0x59);
    }
}
