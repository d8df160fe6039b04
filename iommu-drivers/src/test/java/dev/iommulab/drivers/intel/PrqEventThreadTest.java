package dev.iommulab.drivers.intel;

import static dev.iommulab.core.fault.IommuFault.PAGE_REQUEST_LAST_PAGE;
import static dev.iommulab.core.fault.IommuFault.PAGE_REQUEST_PASID_VALID;
import static dev.iommulab.core.fault.IommuFault.PAGE_RESPONSE_NEEDS_PASID;
import static dev.iommulab.core.fault.IommuFault.PERM_EXEC;
import static dev.iommulab.core.fault.IommuFault.PERM_PRIV;
import static dev.iommulab.core.fault.IommuFault.PERM_READ;
import static dev.iommulab.core.fault.IommuFault.PERM_WRITE;
import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static dev.iommulab.drivers.intel.IntelIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.drivers.intel.IntelIommuFixture.Answer;
import dev.iommulab.drivers.intel.IntelIommuFixture.Report;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The page request interrupt thread of the Intel driver, fed through the real page request queue: a
 * function sends PCIe page requests, the VT-d unit writes descriptors and interrupts, and
 * {@link PrqHandler} reports, answers or drops them. Derives from prq_event_thread(), intel_prq_report()
 * and handle_bad_prq_event() in drivers/iommu/intel/prq.c, and reference/linux-fault-stack.md §6.1, §2.2 and
 * §8 items 45-48.
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class PrqEventThreadTest {

    private static final int FLAGS_PARTIAL = PAGE_REQUEST_PASID_VALID | PAGE_RESPONSE_NEEDS_PASID;
    private static final int FLAGS_LAST = FLAGS_PARTIAL | PAGE_REQUEST_LAST_PAGE;

    private final IntelIommuFixture f = new IntelIommuFixture().attach();

    // ---- intel_prq_report() ----

    /**
     * prq_to_iommu_prot(): each descriptor bit maps to its perm bit, R→READ, W→WRITE, EXE→EXEC,
     * PM→PRIV. The combinations the thread accepts (no exec with read, no privileged R/W, no LPIG without
     * R/W) are sent as partials of one group closed by a read LPIG.
     */
    @Test
    void prqEventThread_permissionBits_mapToIommuFaultPerm() {
        f.send(request(3, true, false, false, VA),
                new PageRequestMessage(RID, true, PASID, true, false, false, true, false, 3, VA + 0x1000),
                new PageRequestMessage(RID, true, PASID, true, true, false, false, false, 3, VA + 0x2000),
                request(3, true, false, true, VA + 0x3000));

        assertThat(f.groups).hasSize(1);
        assertThat(f.groups.get(0).faults()).extracting(IommuFault::perm)
                .containsExactly(PERM_READ, PERM_WRITE | PERM_EXEC, PERM_EXEC | PERM_PRIV, PERM_READ);
        assertThat(f.groups.get(0).faults()).extracting(IommuFault::flags)
                .containsExactly(FLAGS_PARTIAL, FLAGS_PARTIAL, FLAGS_PARTIAL, FLAGS_LAST);
    }

    // ---- partial groups ----

    // ---- malformed requests: handle_bad_prq_event() ----

    /** The requests prq_event_thread() rejects before looking the device up, with its pr_err() text. */
    enum Malformed {
        NON_CANONICAL_LOW_HALF("Address is not canonical", false, false, true, false, 0x0000_8000_0000_0000L),
        NON_CANONICAL_HIGH_HALF("Address is not canonical", false, false, true, true, 0xffff_0000_0000_0000L),
        PRIVILEGED_READ("Page request in Privilege Mode", false, true, true, false, VA),
        PRIVILEGED_WRITE("Page request in Privilege Mode", false, true, false, true, VA),
        EXEC_WITH_READ("Execution request not supported", true, false, true, false, VA);

        final String why;
        final boolean exe;
        final boolean priv;
        final boolean read;
        final boolean write;
        final long addr;

        Malformed(String why, boolean exe, boolean priv, boolean read, boolean write, long addr) {
            this.why = why;
            this.exe = exe;
            this.priv = priv;
            this.read = read;
            this.write = write;
            this.addr = addr;
        }

        PageRequestMessage message(int prgi, boolean last) {
            return new PageRequestMessage(RID, true, PASID, exe, priv, read, write, last, prgi, addr);
        }

        String logLine() {
            return "DMAR: IOMMU: dmar0: " + why;
        }
    }

    /**
     * §8 item 47 and §6.1: a malformed LPIG request is answered by the driver itself with a page group
     * response Invalid (0x1), LPIG and PASID-present set, PASID and PRGI of the request; it never reaches
     * iommu_report_device_fault() or the handler, and the kernel log has the thread's pr_err() line, e.g.
     * "DMAR: IOMMU: dmar0: Address is not canonical".
     */
    @ParameterizedTest
    @EnumSource(Malformed.class)
    @DisplayName("linux-fault-stack §8 item 47: VT-d bad descriptor with LPIG answered Invalid by the driver")
    void prqEventThread_malformedLpigRequest_driverAnswersInvalidWithoutReporting(Malformed bad) {
        f.send(bad.message(0x42, true));

        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 0x42, 0x1));
        List<QiDescriptor> descriptors = f.pageGroupResponseDescriptors();
        assertThat(descriptors).hasSize(1);
        assertPageGroupResponse(descriptors.get(0), 0x1, true, 0x42, true);
        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.DRIVER, PageResponseCode.INVALID));
        assertThat(f.reports).isEmpty();
        assertThat(f.groups).isEmpty();
        assertThat(f.errTexts()).containsExactly(bad.logLine(), invalidPageRequestLine(0));
        assertThat(f.hwFaults).as("the unit queued it; the driver judged it").isEmpty();
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /**
     * §8 item 47, second half: the same malformed request without LPIG gets no response at all
     * (handle_bad_prq_event() returns early for !lpig), is not reported and not parked; only the log line
     * remains. The function's credit stays in use, as nothing ever answers that request.
     */
    @ParameterizedTest
    @EnumSource(Malformed.class)
    @DisplayName("linux-fault-stack §8 item 47: VT-d bad descriptor without LPIG, no response")
    void prqEventThread_malformedNonLastRequest_noResponseNotReported(Malformed bad) {
        f.send(bad.message(0x42, false));

        assertThat(f.prgResponses).isEmpty();
        assertThat(f.pageGroupResponseDescriptors()).isEmpty();
        assertThat(f.answers).isEmpty();
        assertThat(f.reports).isEmpty();
        assertThat(f.iopf.partials(f.dev)).isEmpty();
        assertThat(f.errTexts()).containsExactly(bad.logLine(), invalidPageRequestLine(0));
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(1);
    }

    /**
     * The as-coded quirk of §2.2 step 2 and §8b invariant 1: a non-last request that cannot be routed is
     * answered INVALID too, before the LPIG check; VT-d then emits a page group response with LPIG=0.
     */
    @Test
    void prqEventThread_nonLastRequestWithoutPasid_answeredInvalidWithLpigClear() {
        f.send(new PageRequestMessage(RID, false, 0, false, false, true, false, false, 10, VA));

        assertThat(f.reports).extracting(Report::ret).containsExactly(Errno.EINVAL.negative());
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 10, 0x1));
        assertPageGroupResponse(f.pageGroupResponseDescriptors().get(0), 0x1, false, 10, false);
        assertThat(f.iopf.partials(f.dev)).isEmpty();
    }

    // ---- stop markers ----

    // ---- overflow ----

    /**
     * §8 items 45 and 46 with PRQ_DEPTH credits: the ring holds 2047 descriptors, so the 2048th request
     * (an LPIG) finds it full: the unit sets PRO and answers Success itself (VT-d Table 31), the driver
     * never sees it. The thread's pass then drains the 2047 partials, finds PRO set and the ring empty,
     * discards the partials (iopf_queue_discard_partial()) and clears PRO, logging both steps.
     */
    @Test
    void prqEventThread_ringOverflowed_hardwareAnswersSuccessThenDriverDiscardsPartialsAndClearsPro() {
        IntelIommuFixture big = new IntelIommuFixture(4096).attach();
        List<PageRequestMessage> burst = new ArrayList<>();
        for (int i = 0; i < IntelIommu.PRQ_DEPTH - 1; i++) {
            burst.add(request(1, true, false, false, VA + 0x1000L * i));
        }
        burst.add(request(2, true, false, true, VA - 0x1000));

        big.send(burst.toArray(PageRequestMessage[]::new));

        assertThat(big.endpoint.creditHighWater()).isEqualTo(IntelIommu.PRQ_DEPTH);
        assertThat(big.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 2, 0x0));
        assertThat(big.pageGroupResponseDescriptors()).as("answered by the unit, not through QI").isEmpty();
        assertThat(big.reports).hasSize(IntelIommu.PRQ_DEPTH - 1)
                .allSatisfy(r -> assertThat(r.fault().lastPage()).isFalse());
        assertThat(big.groups).isEmpty();
        assertThat(big.iopf.partials(big.dev)).isEmpty();
        assertThat(big.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).isZero();
        assertThat(big.logTexts()).containsSubsequence("DMAR: IOMMU: dmar0: PRQ overflow detected",
                "DMAR: IOMMU: dmar0: PRQ overflow cleared");
    }

    /**
     * §8 item 46, PRO set and the ring not empty after a pass: the thread's pass takes 1 µs per descriptor here
     * ({@code TimingModel.queueRecordNs}), so while it works through 10 partials of group 1 the device sends 117
     * partials of group 2, which fill the 128-slot ring, and group 2's LPIG, which finds it full: the unit sets PRO
     * and answers it Success. The pass ends with PQH behind PQT, so PRO stays set and nothing is discarded; the next
     * pass (the interrupt that came meanwhile) empties the ring, discards the partials of every device
     * (iopf_queue_discard_partial()) and clears PRO (prq_event_thread()).
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 46: VT-d PRO clearing")
    void prqEventThread_proSetRingNotEmptyAfterPass_proStaysUntilNextPassEmptiesRing() {
        IntelIommuFixture slow = new IntelIommuFixture(256, VtdConfig.defaults("dmar0").withPrqEntries(128),
                KernelVersion.LATEST, OverflowRecovery.DISCARD_PARTIALS, TimingModel.ESTIMATES.withQueueRecordNs(1_000))
                .attach();
        for (int i = 0; i < 10; i++) {
            slow.endpoint.sendPageRequest(request(1, true, false, false, VA + 0x1000L * i), null);
        }
        slow.loop.schedule(5_000, "second burst", () -> {
            for (int i = 0; i < 117; i++) {
                slow.endpoint.sendPageRequest(request(2, true, false, false, VA + 0x100000L + 0x1000L * i), null);
            }
            slow.endpoint.sendPageRequest(request(2, true, false, true, VA + 0x200000L), null);
        });

        slow.loop.runUntil(() -> slow.logTexts().contains("DMAR: IOMMU: dmar0: PRQ overflow detected"));

        assertThat(slow.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).as("PRO after the first pass").isNotZero();
        assertThat(slow.unit.readReg(VtdRegs.PQH)).isNotEqualTo(slow.unit.readReg(VtdRegs.PQT));
        assertThat(slow.iopf.partials(slow.dev)).as("nothing discarded yet").hasSize(10);
        assertThat(slow.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 2, 0x0));

        slow.loop.runUntilIdle();

        assertThat(slow.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).isZero();
        assertThat(slow.iopf.partials(slow.dev)).isEmpty();
        assertThat(slow.reports).hasSize(127);
        assertThat(slow.groups).isEmpty();
        assertThat(slow.logTexts()).containsSubsequence("DMAR: IOMMU: dmar0: PRQ overflow detected",
                "DMAR: IOMMU: dmar0: PRQ overflow cleared");
    }

    /**
     * handle_bad_prq_event()'s pr_err(): the first two qwords of the descriptor in ring slot {@code slot}, as
     * %08llx.
     */
    private String invalidPageRequestLine(int slot) {
        long ring = f.unit.readReg(VtdRegs.PQA) & ~0xfffL;
        long at = ring + (long) slot * VtdRegs.DESC_SIZE;
        return String.format("DMAR: dmar0: Invalid page request: %08x %08x", f.memory.readLong(at),
                f.memory.readLong(at + 8));
    }

    /** Fields of a page group response descriptor (type 0x9) as the QI_PGRP_* macros place them. */
    static void assertPageGroupResponse(QiDescriptor d, int code, boolean pasidPresent, int prgi, boolean lpig) {
        assertThat(d.type()).isEqualTo(QiDescriptor.TYPE_PAGE_GROUP_RESPONSE);
        assertThat((int) ((d.qw0() >>> 12) & 0xf)).as("response code").isEqualTo(code);
        assertThat((d.qw0() & (1L << 4)) != 0).as("PASID present").isEqualTo(pasidPresent);
        assertThat((int) ((d.qw0() >>> 16) & 0xffff)).as("RID").isEqualTo(RID);
        if (pasidPresent) {
            assertThat((int) ((d.qw0() >>> 32) & 0xfffff)).as("PASID").isEqualTo(PASID);
        }
        assertThat((int) ((d.qw1() >>> 3) & 0x1ff)).as("PRGI").isEqualTo(prgi);
        assertThat((d.qw1() & (1L << 2)) != 0).as("LPIG").isEqualTo(lpig);
    }
}
