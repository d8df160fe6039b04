package dev.iommulab.drivers.riscv;

import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Completion;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.drivers.PageRequests;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import java.util.Map;

/**
 * The page-request-queue interrupt thread. <b>Not in mainline</b>: the merged RISC-V driver enables only
 * the command and fault queues and has no IOPF (reference/linux-fault-stack.md §6.4). This is the lab's
 * extension, modelled on the VT-d driver's {@code prq_event_thread()} / {@code intel_prq_report()} /
 * {@code handle_bad_prq_event()} (drivers/iommu/intel/prq.c, the lab's {@code intel.PrqHandler}), with the
 * queue handling of the merged {@code riscv_iommu_fltq_process()} and the record decoding of
 * {@code riscv_iommu_priq_process()} / {@code riscv_iommu_page_request()} of the unmerged 2023 RISC-V IOMMU
 * series:
 * <ol>
 *   <li>clear {@code ipsr.pip}, then consume the records from {@code pqh} to {@code pqt} and move {@code pqh};</li>
 *   <li>a bad request — its {@code DID} is not a probed device, its address is not canonical for Sv48 (bits
 *       63:47 not all equal), or it asks for R/W in privileged mode (SVA contexts have {@code ENS} = 0) — is
 *       logged, and when it is the last of its group the driver answers it Invalid Request itself with
 *       {@code ATS.PRGR}; otherwise nothing answers it (as handle_bad_prq_event());</li>
 *   <li>a Stop Marker (PASID, L = 1, R = W = 0) is dropped: no report, no response;</li>
 *   <li>every other record goes to {@code iommu_report_device_fault()} as a page request with the Intel
 *       driver's conventions: {@code LAST_PAGE} when L; {@code PASID_VALID} and {@code NEEDS_PASID} with the
 *       PASID when PV; perm READ/WRITE/EXEC/PRIV from R, W, EXEC, PRIV; grpid = PRGI; the page address;</li>
 *   <li>after the drain, {@code pqof} or {@code pqmf} set means the IOMMU dropped requests (answering the last
 *       ones itself, reference/iommu-hardware.md §2.4.3), so partial groups it parked may never complete:
 *       the queue is empty now, so the partials of every device are discarded
 *       ({@code iopf_queue_discard_partial()}, as prq_event_thread() does after PRO; policy
 *       {@code iopf.overflow-recovery} may choose otherwise, see {@link OverflowRecovery}) and the bits are
 *       cleared by writing {@code pqcsr} back, with the fault queue's warning text.</li>
 * </ol>
 */
final class PageRequestHandler {

    private final RiscvIommuDevice iommu;
    private final HwQueue queue;
    private final CommandQueue cmdq;
    private final Map<Integer, RiscvDeviceInfo> devices;
    private final RiscvUnit unit;
    private final IoPgfault iopf;
    private final IopfQueue iopfQueue;
    private final FaultEvents events;
    private final OverflowRecovery overflowRecovery;
    /** Completed at the end of every pass of the thread (as VT-d's {@code prq_complete}); a drain waits on it. */
    final Completion passDone;

    PageRequestHandler(RiscvIommuDevice iommu, HwQueue queue, CommandQueue cmdq, RiscvUnit unit, IopfQueue iopfQueue) {
        this.iommu = iommu;
        this.queue = queue;
        this.cmdq = cmdq;
        this.devices = unit.devices();
        this.unit = unit;
        this.iopf = unit.iopf();
        this.iopfQueue = iopfQueue;
        this.events = unit.services().events();
        this.overflowRecovery = unit.services().overflowRecovery();
        this.passDone = new Completion(iommu.name + "-priq_complete", iommu.loop);
    }

    /** The hard IRQ handler: wakes the thread when {@code ipsr.pip} is set. */
    void irq() {
        iommu.queueIpsr(queue, "priq", "page request interrupt, waking the page request thread", this::process);
    }

    /** The thread function, {@code riscv_iommu_priq_process()} of the lab. */
    void process() {
        iommu.hw.writeReg(RiscvRegs.IPSR, queue.ipsrBit());
        queue.consume((head, tail, count) -> iommu.trace("riscv_iommu_priq_process", "pqh %d pqt %d: %d record(s)", head, tail, count),
                at -> pageRequest(RiscvPageRequestRecord.readFrom(iommu.memory, at)));
        int ctrl = (int) iommu.hw.readReg(queue.qcr);
        if ((ctrl & (RiscvRegs.PQCSR_PQMF | RiscvRegs.PQCSR_PQOF)) != 0) {
            iommu.devWarn("Queue #%d error; memory fault:%d overflow:%d", queue.qid,
                    CommandQueue.bit(ctrl, RiscvRegs.PQCSR_PQMF), CommandQueue.bit(ctrl, RiscvRegs.PQCSR_PQOF));
            overflowRecovery.recover(iopf, iopfQueue, unit.endpoints(), iommu.log);
            iommu.hw.writeReg(queue.qcr, ctrl);
        }
        passDone.complete();
    }

    /**
     * Whether a record of {@code devid} for {@code pasid} waits in the queue, written and not yet consumed; for
     * {@code pasid} 0 ({@code IOMMU_NO_PASID}, the RID through process context 0) a record without PASID counts.
     */
    boolean unconsumed(int devid, int pasid) {
        return queue.anyUnconsumed(at -> {
            RiscvPageRequestRecord r = RiscvPageRequestRecord.readFrom(iommu.memory, at);
            return r.did() == devid && (r.pv() ? r.pid() : 0) == pasid;
        });
    }

    /** Whether {@code pqcsr} reports requests dropped (overflow or memory fault) that the thread has not cleared. */
    boolean overflowed() {
        return (iommu.hw.readReg(queue.qcr) & (RiscvRegs.PQCSR_PQMF | RiscvRegs.PQCSR_PQOF)) != 0;
    }

    /** One record: {@code riscv_iommu_page_request()} with prq_event_thread()'s checks. */
    private void pageRequest(RiscvPageRequestRecord req) {
        String bad = malformed(req);
        if (bad != null) {
            iommu.devErr("%s", bad);
            handleBadPageRequest(req);
            return;
        }
        if (req.pv() && req.last() && !req.read() && !req.write()) {
            iommu.trace("riscv_iommu_priq_process", "stop marker for PASID %d dropped", req.pid());
            return;
        }
        RiscvDeviceInfo info = devices.get(req.did());
        if (info == null) {
            handleBadPageRequest(req);
            return;
        }
        IommuFault fault = PageRequests.toFault(req.toMessage());
        if (iopf.reportDeviceFault(info.dev(), fault) != 0 && iopf.kernel().driverAnswersErrors()) {
            handleBadPageRequest(req);
        }
    }

    /** The checks prq_event_thread() makes before looking the device up, with its messages. */
    private static String malformed(RiscvPageRequestRecord req) {
        long top = req.pageAddr() >> 47;
        if (top != 0 && top != -1) {
            return "Address is not canonical";
        }
        if (req.priv() && (req.read() || req.write())) {
            return "Page request in Privilege Mode";
        }
        return null;
    }

    /**
     * As handle_bad_prq_event(): a bad request that is the last of its group is answered Invalid Request by
     * the driver ({@code ATS.PRGR}, PASID when the request had one); a non-last one gets nothing.
     */
    private void handleBadPageRequest(RiscvPageRequestRecord req) {
        if (!req.last()) {
            return;
        }
        RiscvDeviceInfo info = devices.get(req.did());
        IommuFault fault = PageRequests.toFault(req.toMessage());
        if (info != null) {
            events.pageResponse(info.dev(), fault, new PageResponse(fault.pasid(), req.prgi(), PageResponseCode.INVALID),
                    ResponseOrigin.DRIVER);
        }
        iommu.trace("riscv_iommu_priq_process", "bad page request from %04x PRGI %d answered INVALID", req.did(),
                req.prgi());
        cmdq.send(RiscvCommand.atsPrgr(req.did() & 0xffff, req.pv(), req.pid(), req.prgi(),
                PageResponseCode.INVALID.value()));
    }
}
