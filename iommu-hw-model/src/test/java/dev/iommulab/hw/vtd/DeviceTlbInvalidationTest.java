package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.DOMAIN_ID;
import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;

/**
 * Device-TLB invalidation and the wait descriptor: ATS Invalidate Requests with ITAGs through the
 * fabric, waits that complete only once the completions came (SW, IF, FN), the page-request drain (PD),
 * the time-out (FSTS.ITE) and an unexpected completion (FSTS.ICE). Derives from reference/iommu-hardware.md
 * §2.1.5 (descriptor types, wait flags, IQE/ITE/ICE), §6 scenario 35 (PASID drain,
 * intel_iommu_drain_pasid_prq()), and qi_check_fault() in drivers/iommu/intel/dmar.c ("If ITE happens, all
 * pending wait_desc commands are aborted. No new descriptors are fetched until the ITE is cleared").
 */
class DeviceTlbInvalidationTest {

    private static final long TLP = TimingModel.ESTIMATES.pcieTlpNs();

    private final VtdFixture f = new VtdFixture().attachSvaDevice();
    private final long status;

    DeviceTlbInvalidationTest() {
        f.enableInvalidationQueue();
        f.enablePageRequestQueue();
        status = f.allocateFrame();
    }

    private void functionAnswers() {
        f.function.answerInvalidations(f.unit, f.loop, TLP);
    }

    private static QiDescriptor waitFor(long statusAddr, long flags) {
        return QiDescriptor.invalidationWait(1, statusAddr, flags);
    }

    private long iqh() {
        return f.unit.readReg(VtdRegs.IQH);
    }

    @Test
    void deviceTlb_sizedRange_sendsAtsInvalidateRequestWithItag() {
        f.submit(QiDescriptor.deviceTlb(RID, 0x7f00_0000_4000L, 2), QiDescriptor.deviceTlb(RID, 0x1000, 0));
        f.settle();

        assertThat(f.function.invalidations).containsExactly(
                new AtsInvalidateRequest(RID, false, 0, false, 0x7f00_0000_4000L, 0x4000, 0),
                new AtsInvalidateRequest(RID, false, 0, false, 0x1000, 0x1000, 1));
    }

    @Test
    void pasidDeviceTlb_wholeAddressSpace_sendsPasidTaggedRequestCoveringEverything() {
        f.submit(QiDescriptor.pasidDeviceTlbAll(RID, PASID));
        f.settle();

        assertThat(f.function.invalidations).singleElement().satisfies(r -> {
            assertThat(r.pasidPresent()).isTrue();
            assertThat(r.pasid()).isEqualTo(PASID);
            assertThat(r.covers(PASID, 0x7fff_ffff_f000L)).isTrue();
            assertThat(r.covers(PASID + 1, 0)).isFalse();
        });
    }

    /** A wait behind a device-TLB invalidation writes its status only after the Invalidate Completion. */
    @Test
    void wait_afterDeviceTlbInvalidation_completesOnlyWhenCompletionArrives() {
        functionAnswers();

        f.submit(QiDescriptor.pasidDeviceTlbAll(RID, PASID), waitFor(status, 0));

        assertThat(f.memory.readInt(status)).isZero();
        f.settle();
        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(f.loop.now()).as("no timer left far in the future").isLessThan(10_000);
    }

    /** FN: nothing after the wait is fetched before it completes; IQH stays on the wait meanwhile. */
    @Test
    void wait_fenced_headStaysOnWaitAndLaterDescriptorsWait() {
        functionAnswers();

        f.submit(QiDescriptor.pasidDeviceTlbAll(RID, PASID), waitFor(status, QiDescriptor.IWD_FENCE),
                QiDescriptor.pageGroupResponse(RID, true, PASID, 0, 5, true));
        f.loop.runFor(TLP);

        assertThat(iqh()).isEqualTo(VtdRegs.DESC_SIZE);
        assertThat(f.function.responses).isEmpty();

        f.settle();
        assertThat(f.function.responses).containsExactly(new PrgResponse(RID, true, PASID, 5, 0));
        assertThat(iqh()).isEqualTo(3L * VtdRegs.DESC_SIZE);
    }

    /** Without FN the unit goes on with later descriptors and completes the wait when it can. */
    @Test
    void wait_notFenced_laterDescriptorsRunBeforeWaitCompletes() {
        functionAnswers();

        f.submit(QiDescriptor.pasidDeviceTlbAll(RID, PASID), waitFor(status, 0),
                QiDescriptor.pageGroupResponse(RID, true, PASID, 0, 5, true));
        f.loop.runFor(TLP);

        assertThat(iqh()).isEqualTo(3L * VtdRegs.DESC_SIZE);
        assertThat(f.function.responses).hasSize(1);
        assertThat(f.memory.readInt(status)).isZero();
        f.settle();
        assertThat(f.memory.readInt(status)).isEqualTo(1);
    }

    /** IF: ICS.IWC and the invalidation completion event; no new event while IWC stays set. */
    @Test
    void wait_interruptFlag_setsIwcAndRaisesCompletionEventOnce() {
        f.submit(QiDescriptor.invalidationWaitFlags(QiDescriptor.IWD_INTERRUPT));
        f.submit(QiDescriptor.invalidationWaitFlags(QiDescriptor.IWD_INTERRUPT));
        f.settle();
        assertThat(f.unit.readReg(VtdRegs.ICS)).isEqualTo(VtdRegs.ICS_IWC);
        assertThat(f.completionEvents).isEqualTo(1);

        f.unit.writeReg(VtdRegs.ICS, VtdRegs.ICS_IWC);
        f.submit(QiDescriptor.invalidationWaitFlags(QiDescriptor.IWD_INTERRUPT));
        f.settle();
        assertThat(f.completionEvents).isEqualTo(2);
    }

    /**
     * A function that never answers: after the time-out FSTS.ITE is set (ITESID = the function), the held
     * wait is aborted without its status write, a fault event is raised, IQH stays on the wait; clearing
     * ITE makes the unit fetch the wait again, which now completes.
     */
    @Test
    void deviceTlb_functionNeverAnswers_iteAfterTimeoutWaitAbortedAndRefetchedAfterClear() {
        f.submit(QiDescriptor.pasidDeviceTlbAll(RID, PASID), waitFor(status, QiDescriptor.IWD_FENCE));
        f.settle();

        assertThat(f.fsts() & VtdRegs.FSTS_ITE).isEqualTo(VtdRegs.FSTS_ITE);
        assertThat(f.loop.now()).isGreaterThanOrEqualTo(VtdConfig.DEFAULT_DEVICE_TLB_TIMEOUT_NS);
        assertThat((f.unit.readReg(VtdRegs.IQERCD) >>> 32) & 0xffff).isEqualTo(RID);
        assertThat(f.memory.readInt(status)).isZero();
        assertThat(iqh()).isEqualTo(VtdRegs.DESC_SIZE);
        assertThat(f.faultEvents).isEqualTo(1);

        f.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_ITE);
        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(iqh()).isEqualTo(2L * VtdRegs.DESC_SIZE);
    }

    @Test
    void deviceTlb_configuredTimeout_iteAtThatTime() {
        VtdFixture quick = new VtdFixture(VtdConfig.defaults("dmar0").withDeviceTlbTimeoutNs(50_000));
        quick.enableInvalidationQueue();

        quick.submit(QiDescriptor.deviceTlb(RID, 0, 0));
        quick.loop.runUntil(49_999);
        assertThat(quick.fsts() & VtdRegs.FSTS_ITE).isZero();
        quick.loop.runUntil(50_000);

        assertThat(quick.fsts() & VtdRegs.FSTS_ITE).isEqualTo(VtdRegs.FSTS_ITE);
    }

    /** An Invalidate Completion for a tag that is not outstanding: FSTS.ICE with ICESID. */
    @Test
    void atsInvalidateCompletion_unknownItag_setsIce() {
        f.unit.atsInvalidateCompletion(RID, 1 << 7);

        assertThat(f.fsts() & VtdRegs.FSTS_ICE).isEqualTo(VtdRegs.FSTS_ICE);
        assertThat(f.unit.readReg(VtdRegs.IQERCD) >>> 48).isEqualTo(RID);
    }

    /**
     * PD: a page request the unit has received but not yet written to the page request queue holds the
     * wait; a wait without PD does not wait for it.
     */
    @Test
    void wait_pageRequestDrain_completesOnlyAfterReceivedRequestIsQueued() {
        long plain = f.allocateFrame();
        f.unit.pageRequest(VtdFixture.pageRequest(3, true, 0x7000_0000L));

        f.submit(waitFor(status, QiDescriptor.IWD_PRQ_DRAIN), waitFor(plain, 0));

        assertThat(f.memory.readInt(plain)).as("waits complete in order: the later one waits too").isZero();
        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
        f.settle();
        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(f.memory.readInt(plain)).isEqualTo(1);
        assertThat(f.prqSlot(0).prgIndex()).isEqualTo(3);
    }

    @Test
    void wait_withoutPageRequestDrain_doesNotWaitForReceivedRequests() {
        f.unit.pageRequest(VtdFixture.pageRequest(3, true, 0x7000_0000L));

        f.submit(waitFor(status, 0));

        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
    }

    /**
     * Scenario 35 (intel_iommu_drain_pasid_prq()): wait(FN) + PASID-IOTLB + PASID device-TLB + wait(PD).
     * The final wait completes only after the page request already on its way has been queued and the
     * function has answered the invalidation; PRS is then what software checks for PRO.
     */
    @Test
    void scenario35_pasidDrain_waitCompletesAfterInFlightRequestQueuedAndInvalidationCompleted() {
        functionAnswers();
        f.unit.pageRequest(VtdFixture.pageRequest(9, true, 0x7000_0000L));

        f.submit(QiDescriptor.invalidationWaitFlags(QiDescriptor.IWD_FENCE),
                QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID), QiDescriptor.pasidDeviceTlbAll(RID, PASID),
                waitFor(status, QiDescriptor.IWD_PRQ_DRAIN));
        f.loop.runFor(TimingModel.ESTIMATES.iommuWalkNs());
        assertThat(f.unit.readReg(VtdRegs.PQT)).as("request queued").isEqualTo(VtdRegs.DESC_SIZE);
        assertThat(f.memory.readInt(status)).as("invalidation completion still missing").isZero();

        f.settle();

        assertThat(f.memory.readInt(status)).isEqualTo(1);
        assertThat(f.function.invalidations).hasSize(1);
        assertThat(f.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).isZero();
        assertThat(f.fsts() & (VtdRegs.FSTS_ITE | VtdRegs.FSTS_IQE)).isZero();
    }
}
