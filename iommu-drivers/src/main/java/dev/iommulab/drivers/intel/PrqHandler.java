package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Completion;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.Ratelimit;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.drivers.PageRequests;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.IoPgfault;
import dev.iommulab.iopf.IopfQueue;
import java.util.Map;

/**
 * The page request interrupt thread ({@link #prqEventThread}, with {@link #handleBadPrqEvent}, from
 * drivers/iommu/intel/prq.c; the report itself is {@link PageRequests#toFault}): clears PPR, consumes descriptors
 * from head to tail, answers malformed requests itself, drops stop markers, reports the rest to io-pgfault, and
 * recovers from overflow once the ring is empty ({@link OverflowRecovery}, policy
 * {@code iopf.overflow-recovery}), logging "PRQ overflow detected" and "PRQ overflow cleared" with
 * pr_info_ratelimited() as the kernel does. Before 6.8 ({@code kernel: pre-6.8}) a report the core failed is answered
 * here, INVALID and only for an LPIG, as intel_svm_prq_report()'s caller did.
 */
final class PrqHandler {

    private final IntelUnit iommu;
    private final VtdUnit unit;
    private final PhysicalMemory memory;
    private final long ring;
    private final long ringMask;
    private final Map<Integer, DeviceInfo> devices;
    private final IoPgfault iopf;
    private final IopfQueue queue;
    private final KernelLog log;
    private final FaultEvents events;
    private final EventLoop loop;
    private final OverflowRecovery overflowRecovery;
    /** The label of the thread's events, {@code <unit>-prq}. */
    private final String threadLabel;
    /** {@code iommu->prq_complete}: completed at the end of every pass, what a PRQ drain waits on. */
    final Completion prqComplete;
    /** A pass is under way; {@code rerun}: an interrupt came meanwhile. */
    private boolean running;
    private boolean rerun;

    PrqHandler(IntelUnit iommu) {
        this.iommu = iommu;
        this.unit = iommu.unit();
        this.memory = iommu.memory();
        this.ring = iommu.prq();
        this.ringMask = (4096L << iommu.prqOrder()) - VtdRegs.DESC_SIZE;
        this.devices = iommu.devices();
        this.iopf = iommu.iopf();
        this.queue = iommu.iopfQueue();
        this.log = iommu.log();
        this.events = iommu.services().events();
        this.loop = iommu.loop();
        this.overflowRecovery = iommu.services().overflowRecovery();
        this.threadLabel = iommu.name() + "-prq";
        this.prqComplete = new Completion(iommu.name() + "-prq_complete", loop);
    }

    /**
     * The hard IRQ handler: wakes the thread. While a pass is running (spread over time, see {@link #consume}) the
     * interrupt only marks the thread to run again once it is done, as a threaded IRQ's IRQTF_RUNTHREAD does.
     */
    void irq() {
        if (running) {
            rerun = true;
            return;
        }
        iommu.trace("prq_event_irq", "page request interrupt, waking the PRQ thread");
        loop.schedule(iommu.timing().threadWakeNs(), threadLabel, this::prqEventThread);
    }

    /**
     * Counterpart of prq_event_thread(): acknowledges PPR, then consumes the ring from PQH to the PQT read now
     * ({@link #consume}) and ends the pass (overflow recovery, waking drain waiters).
     */
    void prqEventThread() {
        running = true;
        unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        long tail = unit.readReg(VtdRegs.PQT) & ringMask;
        long head = unit.readReg(VtdRegs.PQH) & ringMask;
        iommu.trace("prq_event_thread", "PQH %#x PQT %#x", head, tail);
        consume(head, tail);
    }

    /**
     * The pass from {@code head} to the {@code tail} read at its start; each record takes
     * {@link dev.iommulab.hw.sim.TimingModel#queueRecordNs()}, so with a positive value the unit may queue more
     * (or overflow) before the pass ends.
     */
    private void consume(long head, long tail) {
        long recordNs = iommu.timing().queueRecordNs();
        while (head != tail) {
            handle(PageRequestDescriptor.readFrom(memory, ring + head));
            head = (head + VtdRegs.DESC_SIZE) & ringMask;
            if (recordNs > 0 && head != tail) {
                long next = head;
                loop.schedule(recordNs, threadLabel, () -> consume(next, tail));
                return;
            }
        }
        endPass(tail);
    }

    private void endPass(long consumed) {
        unit.writeReg(VtdRegs.PQH, consumed);
        if ((unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO) != 0) {
            if (ratelimited("overflow-detected")) {
                log.info("DMAR: IOMMU: %s: PRQ overflow detected", iommu.name());
            }
            long head = unit.readReg(VtdRegs.PQH) & ringMask;
            long tail = unit.readReg(VtdRegs.PQT) & ringMask;
            if (head == tail) {
                overflowRecovery.recover(iopf, queue, iommu.endpoints(), log);
                unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PRO);
                if (ratelimited("overflow-cleared")) {
                    log.info("DMAR: IOMMU: %s: PRQ overflow cleared", iommu.name());
                }
            }
        }
        if (!prqComplete.done()) {
            prqComplete.complete();
        }
        running = false;
        if (rerun) {
            rerun = false;
            loop.schedule(0, threadLabel, this::prqEventThread);
        }
    }

    /**
     * The scan of intel_iommu_drain_pasid_prq(): whether a descriptor between PQH and PQT, not yet consumed by
     * the thread, comes from {@code rid} for {@code pasid} ({@link IommuCore#IOMMU_NO_PASID}: a request without
     * PASID).
     */
    boolean unconsumed(int rid, int pasid) {
        long tail = unit.readReg(VtdRegs.PQT) & ringMask;
        for (long head = unit.readReg(VtdRegs.PQH) & ringMask; head != tail; head = (head + VtdRegs.DESC_SIZE) & ringMask) {
            PageRequestDescriptor req = PageRequestDescriptor.readFrom(memory, ring + head);
            boolean samePasid = req.pasidPresent() ? req.pasid() == pasid : pasid == IommuCore.IOMMU_NO_PASID;
            if (req.rid() == rid && samePasid) {
                return true;
            }
        }
        return false;
    }

    private void handle(PageRequestDescriptor req) {
        String bad = malformed(req);
        if (bad != null) {
            log.err("DMAR: IOMMU: %s: %s", iommu.name(), bad);
            handleBadPrqEvent(req);
            return;
        }
        if (req.lpig() && !req.rdReq() && !req.wrReq()) {
            iommu.trace("prq_event_thread", "stop marker for PASID %d dropped", req.pasid());
            return;
        }
        DeviceInfo info = devices.get(req.rid());
        if (info == null) {
            handleBadPrqEvent(req);
            return;
        }
        IommuFault fault = PageRequests.toFault(req.toMessage());
        if (iopf.reportDeviceFault(info.dev(), fault) != 0 && iopf.kernel().driverAnswersErrors()) {
            handleBadPrqEvent(req);
        }
    }

    private static String malformed(PageRequestDescriptor req) {
        long top = req.addr() >> 47;
        if (top != 0 && top != -1) {
            return "Address is not canonical";
        }
        if (req.pmReq() && (req.rdReq() || req.wrReq())) {
            return "Page request in Privilege Mode";
        }
        if (req.exeReq() && req.rdReq()) {
            return "Execution request not supported";
        }
        return null;
    }

    /**
     * Counterpart of handle_bad_prq_event(): logs the descriptor's first two qwords, then answers Invalid Request
     * for an LPIG (or private-data) request.
     */
    private void handleBadPrqEvent(PageRequestDescriptor req) {
        log.err("DMAR: %s: Invalid page request: %08x %08x", iommu.name(), req.qw0(), req.qw1());
        if (!req.lpig() && req.privData0() == 0 && req.privData1() == 0) {
            return;
        }
        Device dev = devices.containsKey(req.rid()) ? devices.get(req.rid()).dev() : null;
        if (dev != null) {
            events.pageResponse(dev, PageRequests.toFault(req.toMessage()),
                    new PageResponse(req.pasid(), req.prgIndex(), PageResponseCode.INVALID), ResponseOrigin.DRIVER);
        }
        iommu.qi().submitSync(QiDescriptor.pageGroupResponse(req.rid(), req.pasidPresent(), req.pasid(),
                PageResponseCode.INVALID.value(), req.prgIndex(), req.lpig()));
    }

    /**
     * Counterpart of pr_info_ratelimited() at prq_event_thread()'s two call sites ("overflow detected" and
     * "overflow cleared"): whether {@code site}, with its own rate-limit state, may print now.
     */
    private boolean ratelimited(String site) {
        return log.ratelimitState("prq_event_thread", site, Ratelimit.DEFAULT_RATELIMIT_INTERVAL_NS,
                Ratelimit.DEFAULT_RATELIMIT_BURST).allow();
    }
}
