package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.pscid;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.drivers.riscv.RiscvIommuFixture.Answer;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.RecordingTraceSink;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Detaching the SVA domain from the PASID (the blocked domain's set_dev_pasid) while the kernel still owes a
 * group. Not in mainline; derives from intel_iommu_disable_iopf() and the VT-d teardown (reference/
 * linux-fault-stack.md §4.3), iopf_queue_remove_device() (io-pgfault.c, §3.5), and the RISC-V guidelines for
 * changing a process context and for ATS (reference/iommu-hardware.md §2.4.5: IODIR + IOTINVAL, IOATC before
 * DevATC, IOFENCE.C completes only after earlier ATS.INVALs).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link RiscvIommuOpsContractTest}); this class keeps the
 * RISC-V specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class RiscvRemoveDevPasidTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture().attach();

    /**
     * The invalidation sequence after the process context is cleared: IODIR.INVAL_PDT (device_id, PASID),
     * IOTINVAL.VMA for the domain's PSCID, IOFENCE.C; then ATS.INVAL to the RID with the PASID over every
     * address (S = 1, address bits all ones), IOFENCE.C. The second fence waits for the function's Invalidate
     * Completion: right after the detach {@code cqh} is still short of {@code cqt}; once the completion
     * arrived the IOMMU has executed everything and the function dropped its ATC entries for the PASID.
     */
    @Test
    void removeDevPasid_afterTeardown_directoryTlbAndAtcInvalidatedInOrder() {
        int pscid = pscid(f.domain);
        int before = f.commands().size();
        RecordingTraceSink trace = new RecordingTraceSink();
        f.loop.trace().addSink(trace);

        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        boolean fenceWaiting = f.hw.readReg(RiscvRegs.CQH) != f.hw.readReg(RiscvRegs.CQT);
        f.loop.runUntilIdle();

        List<RiscvCommand> sent = f.commands().subList(before, f.commands().size());
        RiscvCommand fence = RiscvCommand.iofenceC(false, false, true, true, 0, 0);
        RiscvCommand ats = RiscvCommand.atsInval(RID, true, PASID, false, 0, 4096);
        assertThat(sent).containsExactly(RiscvCommand.iodirInvalPdt(RID, PASID),
                RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0), fence,
                new RiscvCommand(ats.qw0(), RiscvIommuDriver.ATS_INVAL_ALL), fence);
        assertThat(fenceWaiting).as("IOFENCE.C waits for the Invalidate Completion").isTrue();
        assertThat(f.hw.readReg(RiscvRegs.CQH)).isEqualTo(f.hw.readReg(RiscvRegs.CQT));
        assertThat(f.hw.readReg(RiscvRegs.CQCSR) & RiscvRegs.CQCSR_CMD_TO).isZero();
        assertThat(trace.steps()).extracting(TraceEvent.Step::symbol).contains("ats-inval");
    }

    /**
     * A request already on the link when the PASID goes away: unlike VT-d (whose hardware checks the PASID
     * entry and answers Invalid Request itself), the RISC-V IOMMU locates only the device context for a page
     * request, so it queues the record; the thread reports it, io-pgfault finds no handler at the PASID and
     * answers INVALID on the bad-setup path (§2.2 step 2), sent as ATS.PRGR 0x1.
     */
    @Test
    void removeDevPasid_requestInFlight_reportedAndAnsweredInvalidByBadSetupPath() {
        f.endpoint.sendPageRequest(request(2, true, false, true, VA + 0x1000), null);
        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();

        assertThat(f.groups).isEmpty();
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.BAD_SETUP, new PageResponse(PASID, 2, PageResponseCode.INVALID)));
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 2, 0x1));
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /** With the last fault-capable attachment gone there is nothing to drain: the detach does not sleep. */
    @Test
    @DisplayName("linux-fault-stack §8 item 31 (RISC-V, last IOPF attachment): nothing to drain, no sleep")
    void removeDevPasid_lastIopfAttachment_doesNotSleep() {
        f.endpoint.sendPageRequest(request(1, true, false, true, VA), null);
        f.loop.runUntil(() -> f.hw.readReg(RiscvRegs.PQT) != f.hw.readReg(RiscvRegs.PQH));
        long before = f.loop.now();

        f.core.detachDevicePasid(f.domain, f.dev, PASID);

        assertThat(f.loop.now()).isEqualTo(before);
        assertThat(f.hw.readReg(RiscvRegs.PQH)).as("still unconsumed").isNotEqualTo(f.hw.readReg(RiscvRegs.PQT));
    }
}
