package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.pscid;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.mm.MmStruct;
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
 */
class RiscvRemoveDevPasidTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture().attach();

    /**
     * A group is pending (the handler recorded it without answering) when the PASID is detached:
     * iopf_queue_remove_device() answers it INVALID exactly once (ATS.PRGR code 0x1 with the PASID), PRI is
     * disabled, the device leaves the iopf queue, and the process context reads all zero in memory.
     */
    @Test
    void removeDevPasid_groupPending_removeDeviceAnswersInvalidAndPcInvalid() {
        f.answer = null;
        f.send(request(1, true, true, true, VA));
        assertThat(f.iopf.pendingGroups(f.dev)).isEqualTo(1);

        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();

        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(PASID, 1, PageResponseCode.INVALID)));
        assertThat(f.prgrCommands()).hasSize(1);
        RiscvPageResponseTest.assertPrgr(f.prgrCommands().get(0), RID, true, PASID, 1, 0x1);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 1, 0x1));
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.iopf.pendingGroups(f.dev)).isZero();
        assertThat(f.iopf.faultParamUsers(f.dev)).isZero();
        assertThat(f.driver.iopfQueue().deviceNames()).isEmpty();
        assertThat(f.memory.readLong(f.pcAddress(PASID))).as("PC.ta").isZero();
        assertThat(f.memory.readLong(f.pcAddress(PASID) + 8)).as("PC.fsc").isZero();
    }

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

    /**
     * iopf_group_response() is idempotent (§2.3): the handler that finally answers its group after
     * iopf_queue_remove_device() already did sends nothing more.
     */
    @Test
    void removeDevPasid_handlerAnswersLate_noSecondResponse() {
        f.answer = null;
        f.send(request(1, true, true, true, VA));
        IopfGroup group = f.groups.get(0);
        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();

        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        f.iopf.freeGroup(group);
        f.loop.runUntilIdle();

        assertThat(f.answers).extracting(Answer::origin).containsExactly(ResponseOrigin.REMOVE_DEVICE);
        assertThat(f.prgrCommands()).hasSize(1);
        assertThat(f.prgResponses).extracting(PrgResponse::prgi, PrgResponse::wireCode).containsExactly(tuple(1, 0x1));
    }

    /** Detaching with every group answered sends no response: remove_device has nothing to force-answer. */
    @Test
    void removeDevPasid_noGroupPending_sendsNoResponse() {
        f.send(request(1, true, true, true, VA));

        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();

        assertThat(f.answers).extracting(Answer::origin).containsExactly(ResponseOrigin.SVA);
        assertThat(f.prgResponses).hasSize(1);
        assertThat(f.endpoint.priState().enabled()).isFalse();
    }

    /**
     * The lab's RISC-V drain (PasidAttach, modelled on intel_iommu_drain_pasid_prq(), reference/linux-fault-stack.md
     * §4.3 and §8 item 31): with a second SVA attachment keeping IOPF on, a record for the PASID waiting unconsumed
     * in the page-request queue makes the detach sleep until the thread consumed it and the handler's work ran, so
     * the group is answered once, by the SVA handler, before the call returns.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 31 (RISC-V drain): the detach waits for the unconsumed request")
    void removeDevPasid_recordUnconsumedAndIopfStillOn_returnsAfterThreadAndHandler() {
        MmStruct other = new MmStruct("other", f.frames, f.frames.allocate());
        IommuDomain second = f.driver.domainAllocSva(f.dev, other);
        second.setIopfHandler(g -> 0);
        f.core.attachDevicePasid(second, f.dev, 0x77, new AttachHandle(second));
        f.endpoint.sendPageRequest(request(1, true, false, true, VA), null);
        f.loop.runUntil(() -> f.hw.readReg(RiscvRegs.PQT) != f.hw.readReg(RiscvRegs.PQH));
        long before = f.loop.now();

        f.core.detachDevicePasid(f.domain, f.dev, PASID);

        assertThat(f.loop.now()).as("the caller slept").isGreaterThan(before);
        assertThat(f.hw.readReg(RiscvRegs.PQH)).isEqualTo(f.hw.readReg(RiscvRegs.PQT));
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.SVA, new PageResponse(PASID, 1, PageResponseCode.SUCCESS)));
        assertThat(f.endpoint.priState().enabled()).isTrue();
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
