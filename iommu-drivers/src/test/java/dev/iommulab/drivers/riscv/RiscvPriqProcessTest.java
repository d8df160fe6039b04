package dev.iommulab.drivers.riscv;

import static dev.iommulab.core.fault.IommuFault.PAGE_REQUEST_LAST_PAGE;
import static dev.iommulab.core.fault.IommuFault.PAGE_REQUEST_PASID_VALID;
import static dev.iommulab.core.fault.IommuFault.PAGE_RESPONSE_NEEDS_PASID;
import static dev.iommulab.core.fault.IommuFault.PERM_EXEC;
import static dev.iommulab.core.fault.IommuFault.PERM_PRIV;
import static dev.iommulab.core.fault.IommuFault.PERM_READ;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.drivers.riscv.RiscvIommuFixture.Answer;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The page-request-queue thread of the lab's RISC-V driver, fed through the real queue: a function sends PCIe
 * page requests, the IOMMU writes 16-byte records and raises {@code ipsr.pip}, and {@link PageRequestHandler}
 * reports, answers or drops them. Not in mainline (reference/linux-fault-stack.md §6.4); derives from
 * prq_event_thread(), intel_prq_report() and handle_bad_prq_event() (drivers/iommu/intel/prq.c, §6.1, §2.2),
 * riscv_iommu_priq_process() of the 2023 RISC-V series, and reference/iommu-hardware.md §2.4.3.
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link RiscvIommuOpsContractTest}); this class keeps the
 * RISC-V specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class RiscvPriqProcessTest {

    private static final int FLAGS_PARTIAL = PAGE_REQUEST_PASID_VALID | PAGE_RESPONSE_NEEDS_PASID;
    private static final int FLAGS_LAST = FLAGS_PARTIAL | PAGE_REQUEST_LAST_PAGE;

    private final RiscvIommuFixture f = new RiscvIommuFixture().attach();

    /**
     * Each record bit maps to its perm bit as intel_prq_report() maps VT-d's: R→READ, W→WRITE, EXEC→EXEC,
     * PRIV→PRIV (EXEC and PRIV exist only with a PASID). Exec with read is accepted on RISC-V (the IOMMU
     * translates execute requests). Sent as partials of one group closed by a read request with L.
     */
    @Test
    void priqProcess_permissionBits_mapToIommuFaultPerm() {
        f.send(request(3, true, false, false, VA),
                new PageRequestMessage(RID, true, PASID, true, false, true, false, false, 3, VA + 0x1000),
                new PageRequestMessage(RID, true, PASID, true, true, false, false, false, 3, VA + 0x2000),
                request(3, true, false, true, VA + 0x3000));

        assertThat(f.groups).hasSize(1);
        assertThat(f.groups.get(0).faults()).extracting(IommuFault::perm)
                .containsExactly(PERM_READ, PERM_READ | PERM_EXEC, PERM_EXEC | PERM_PRIV, PERM_READ);
        assertThat(f.groups.get(0).faults()).extracting(IommuFault::flags)
                .containsExactly(FLAGS_PARTIAL, FLAGS_PARTIAL, FLAGS_PARTIAL, FLAGS_LAST);
    }

    // ---- stop markers ----

    /**
     * §4.5: a PASID Stop Marker (PV, L = 1, R = W = 0) is queued by the IOMMU like a request (the spec queues
     * it) and dropped by the thread: not reported, no response, no log line, the record consumed.
     */
    @Test
    void priqProcess_stopMarker_droppedWithoutReportOrResponse() {
        f.send(RiscvIommuFixture.stopMarker());

        assertThat(f.hw.readReg(RiscvRegs.PQT)).as("queued by the IOMMU").isEqualTo(1);
        assertThat(f.hw.readReg(RiscvRegs.PQH)).as("consumed by the thread").isEqualTo(1);
        assertThat(f.reports).isEmpty();
        assertThat(f.answers).isEmpty();
        assertThat(f.prgResponses).isEmpty();
        assertThat(f.prgrCommands()).isEmpty();
        assertThat(f.logTexts()).containsExactly("riscv,iommu riscv-iommu0: using MSIs");
    }

    // ---- bad requests: handle_bad_prq_event() semantics ----

    /** The requests the thread rejects before looking the device up, with prq_event_thread()'s message. */
    enum Malformed {
        NON_CANONICAL_LOW_HALF("Address is not canonical", false, true, false, 0x0000_8000_0000_0000L),
        NON_CANONICAL_HIGH_HALF("Address is not canonical", false, false, true, 0xffff_0000_0000_0000L),
        PRIVILEGED_READ("Page request in Privilege Mode", true, true, false, VA),
        PRIVILEGED_WRITE("Page request in Privilege Mode", true, false, true, VA);

        final String why;
        final boolean priv;
        final boolean read;
        final boolean write;
        final long addr;

        Malformed(String why, boolean priv, boolean read, boolean write, long addr) {
            this.why = why;
            this.priv = priv;
            this.read = read;
            this.write = write;
            this.addr = addr;
        }

        PageRequestMessage message(int prgi, boolean last) {
            return new PageRequestMessage(RID, true, PASID, false, priv, read, write, last, prgi, addr);
        }
    }

    /**
     * A bad request with L = 1 is answered by the driver itself: ATS.PRGR Invalid Request (0x1) with the PASID
     * and PRGI of the request, origin "driver"; it never reaches iommu_report_device_fault(), and the log has
     * the error line, e.g. "riscv,iommu riscv-iommu0: Address is not canonical".
     */
    @ParameterizedTest
    @EnumSource(Malformed.class)
    void priqProcess_badLastRequest_driverAnswersInvalidWithoutReporting(Malformed bad) {
        f.send(bad.message(0x42, true));

        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 0x42, 0x1));
        assertThat(f.prgrCommands()).hasSize(1);
        assertPrgr(f.prgrCommands().get(0), RID, true, PASID, 0x42, 0x1);
        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.DRIVER, PageResponseCode.INVALID));
        assertThat(f.reports).isEmpty();
        assertThat(f.groups).isEmpty();
        assertThat(f.errTexts()).containsExactly("riscv,iommu riscv-iommu0: " + bad.why);
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /** The same bad request without L gets no response at all, is not reported and not parked. */
    @ParameterizedTest
    @EnumSource(Malformed.class)
    void priqProcess_badNonLastRequest_noResponseNotReported(Malformed bad) {
        f.send(bad.message(0x42, false));

        assertThat(f.prgResponses).isEmpty();
        assertThat(f.prgrCommands()).isEmpty();
        assertThat(f.reports).isEmpty();
        assertThat(f.iopf.partials(f.dev)).isEmpty();
        assertThat(f.errTexts()).containsExactly("riscv,iommu riscv-iommu0: " + bad.why);
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(1);
    }

    // ---- overflow ----

    /**
     * §2.4.3 and §6.1 by analogy: a page-request queue of 4 slots holds 3 records. Three partials and the
     * last request of another group arrive at once: the last finds the queue full, so the IOMMU sets pqof and
     * answers Success itself (origin hardware; PASID only with PRPR, which this function does not need). The
     * thread drains the 3 partials (reported, parked), sees pqof with the queue empty, warns, discards the
     * partials (iopf_queue_discard_partial()) and clears pqof; the queue takes requests again.
     */
    @Test
    void priqProcess_queueOverflowed_hardwareAnswersSuccessThenDriverDiscardsPartialsAndClearsPqof() {
        RiscvIommuFixture small = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                new RiscvIommuDriver.QueueSizes(4096, 4), EndpointOptions.DEFAULTS).attach();

        small.send(request(1, true, false, false, VA), request(1, true, false, false, VA + 0x1000),
                request(1, true, false, false, VA + 0x2000), request(2, true, false, true, VA + 0x8000));

        assertThat(small.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 2, 0x0));
        assertThat(small.prgrCommands()).as("answered by the IOMMU, not through the CQ").isEmpty();
        assertThat(small.reports).hasSize(3).allSatisfy(r -> assertThat(r.fault().lastPage()).isFalse());
        assertThat(small.groups).isEmpty();
        assertThat(small.iopf.partials(small.dev)).isEmpty();
        assertThat(small.hw.readReg(RiscvRegs.PQCSR) & RiscvRegs.PQCSR_PQOF).isZero();
        assertThat(small.warnTexts()).containsExactly("riscv,iommu riscv-iommu0: Queue #3 error; memory fault:0 overflow:1");

        small.send(request(3, true, false, true, VA + 0x9000));

        assertThat(small.groups).extracting(g -> g.lastFault().grpid()).containsExactly(3);
    }

    /**
     * PRPR semantics: the driver sets DC.tc.PRPR for a function whose PRI requires a PASID on responses, so the
     * IOMMU's own Success on a full queue carries the PASID of the request (riscv-iommu ATS_PRI:
     * "PASID ... if PRPR is 1").
     */
    @Test
    void priqProcess_queueFullWithPrpr_hardwareResponseCarriesPasid() {
        RiscvIommuFixture small = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                new RiscvIommuDriver.QueueSizes(4096, 2),
                EndpointOptions.DEFAULTS.withPrgResponsePasidRequired(true)).attach();

        small.send(request(1, true, false, false, VA), request(2, true, false, true, VA + 0x8000));

        assertThat(small.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 2, 0x0));
        assertThat(small.endpoint.priState().unexpectedPrgIndex()).isFalse();
    }

    /** riscv_iommu_queue_consume()/release(): records are handled in queue order, then {@code pqh} = {@code pqt}. */
    @Test
    void priqProcess_severalRecords_handledInQueueOrderAndPqhFollowsPqt() {
        List<PageRequestMessage> burst = List.of(request(1, true, false, false, VA),
                request(1, true, false, true, VA + 0x1000), request(2, false, true, true, VA + 0x2000));

        f.send(burst.toArray(PageRequestMessage[]::new));

        assertThat(f.reports).extracting(r -> r.fault().grpid()).containsExactly(1, 1, 2);
        assertThat(f.hw.readReg(RiscvRegs.PQH)).isEqualTo(f.hw.readReg(RiscvRegs.PQT)).isEqualTo(3);
    }

    /**
     * The fields of an {@code ATS.PRGR} command as riscv-iommu places them (iommu-bits.h
     * {@code RISCV_IOMMU_CMD_ATS_*}): opcode 4, func3 1, PID 31:12, PV 32, RID 55:40; payload PRGI 40:32 and
     * response code 47:44.
     */
    static void assertPrgr(RiscvCommand c, int rid, boolean pv, int pasid, int prgi, int code) {
        assertThat(c.opcode()).as("opcode").isEqualTo(RiscvCommand.OPCODE_ATS);
        assertThat(c.func3()).as("func3").isEqualTo(RiscvCommand.FUNC3_ATS_PRGR);
        assertThat((int) (c.qw0() >>> 40 & 0xffff)).as("RID").isEqualTo(rid);
        assertThat((c.qw0() >>> 32 & 1) != 0).as("PV").isEqualTo(pv);
        assertThat((int) (c.qw0() >>> 12 & 0xfffff)).as("PID").isEqualTo(pv ? pasid : 0);
        assertThat((int) (c.qw1() >>> 32 & 0x1ff)).as("PRGI").isEqualTo(prgi);
        assertThat((int) (c.qw1() >>> 44 & 0xf)).as("response code").isEqualTo(code);
    }
}
