package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsInvalidationTracker;
import dev.iommulab.hw.iommu.Iotlb;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The queued-invalidation interface (VT-d spec §6.5.2): a ring of 128- or 256-bit descriptors
 * ({@code IQA} with QS and DW, {@code IQH}, {@code IQT}), fetched from the head as soon as software
 * moves the tail while GSTS.QIE is set. The counterpart of what {@code qi_submit_sync()} and
 * {@code qi_check_fault()} in drivers/iommu/intel/dmar.c expect.
 *
 * <p>Invalidation wait descriptors (type 0x5) complete once every descriptor before them has: device-TLB
 * invalidations are complete only when the function's Invalidate Completion came back, and with PD
 * every page request the unit received before the wait must have been written to the page request
 * queue (page group responses before it have already been handed to the link). On completion: SW
 * writes the status data, IF sets ICS.IWC and raises the invalidation completion event. A wait that
 * cannot complete yet is held; with FN the unit stops fetching and IQH stays on it, without FN it goes
 * on with later descriptors and completes the waits in order.
 *
 * <p>Errors: a descriptor with an unknown type, reserved granularity or reserved bit set, or that
 * cannot be fetched, sets FSTS.IQE (IQERCD.IQEI says why) and IQH stays on it; a tail not aligned to a
 * 256-bit descriptor sets IQE too. A device-TLB invalidation timeout sets FSTS.ITE and aborts every
 * held wait (no status write); IQH is not moved. While IQE or ITE is set nothing is fetched; software
 * clearing it resumes fetching at IQH.
 *
 * <p>Device-TLB invalidations in flight (VT-d spec §6.5.2.5, §6.5.2.6, §4.3): each device-TLB or PASID-based
 * device-TLB descriptor becomes a PCIe ATS Invalidate Request with an invalidation tag (ITAG 0..31, free per
 * requester) sent through the fabric; the function's Invalidate Completion
 * ({@code IommuHardware.atsInvalidateCompletion}) retires it. Wait descriptors behind it complete only once it
 * is retired. A completion naming a tag that is not outstanding for that requester sets FSTS.ICE (ICESID in
 * IQERCD). A request unanswered after {@link VtdConfig#deviceTlbTimeoutNs()} is dropped and reported as
 * FSTS.ITE (ITESID); its timer is cancelled when the completion comes back in time.
 */
final class InvalidationQueue {

    /** A wait descriptor fetched at {@code offset}, waiting for what was issued before it. */
    private record Wait(long offset, QiDescriptor d, long deviceTlbBarrier, long prqBarrier) {
    }

    private final VtdUnit unit;
    private final AtsInvalidationTracker deviceTlb;
    private final QiExecutor executor;
    private final Deque<Wait> waits = new ArrayDeque<>();
    private final EventControl completionEvent;
    private long iqa;
    private long head;
    private long tail;
    private long iqercd;
    private int ics;
    private boolean fenceBlocked;

    InvalidationQueue(VtdUnit unit, StructureCaches caches, Iotlb<Translation> iotlb) {
        this.unit = unit;
        this.completionEvent = new EventControl(unit, "inv-completion-event", () -> { });
        this.deviceTlb = new AtsInvalidationTracker(unit.loop(), unit.fabric(),
                AtsInvalidationTracker.TagScope.PER_REQUESTER, unit.config().deviceTlbTimeoutNs(),
                "dev-tlb-inval-timer", new AtsInvalidationTracker.Listener() {
                    @Override
                    public void timedOut(int rid, int itag) {
                        trace("device-TLB invalidation ITAG %d to %04x timed out", itag, rid);
                        deviceTlbTimeout(rid);
                    }

                    @Override
                    public void notOutstanding(int rid, int itag) {
                        trace("invalidate completion from %04x for ITAG %d not outstanding", rid, itag);
                        invalidCompletion(rid);
                    }
                });
        this.executor = new QiExecutor(unit, caches, iotlb, deviceTlb);
    }

    /** An Invalidate Completion from {@code rid} for the tags set in {@code itagVector}. */
    void atsInvalidateCompletion(int rid, int itagVector) {
        deviceTlb.completion(rid, itagVector);
        progress();
    }

    EventControl completionEvent() {
        return completionEvent;
    }

    long readReg(int offset) {
        return switch (offset) {
            case VtdRegs.IQA -> iqa;
            case VtdRegs.IQH -> head;
            case VtdRegs.IQT -> tail;
            case VtdRegs.ICS -> ics;
            case VtdRegs.IECTL -> completionEvent.read();
            case VtdRegs.IQERCD -> iqercd;
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.IQA -> {
                iqa = value;
                head = 0;
                tail = 0;
                waits.clear();
                fenceBlocked = false;
            }
            case VtdRegs.IQT -> {
                if ((iqa & VtdRegs.IQA_DW_256) != 0 && (value & 0x10) != 0) {
                    error(VtdRegs.IQEI_TAIL_MISALIGNED);
                    return;
                }
                tail = value & (size() - 1) & -descSize();
                process();
            }
            case VtdRegs.ICS -> ics &= ~(int) value;
            case VtdRegs.IECTL -> completionEvent.write(value);
            default -> {
            }
        }
    }

    private long size() {
        return 4096L << (iqa & VtdRegs.IQA_QS_MASK);
    }

    private int descSize() {
        return (iqa & VtdRegs.IQA_DW_256) != 0 ? 32 : 16;
    }

    private boolean stalled() {
        return fenceBlocked || (unit.faults().fsts() & (VtdRegs.FSTS_IQE | VtdRegs.FSTS_ITE)) != 0
                || !unit.queuedInvalidationEnabled();
    }

    /** Fetches and carries out descriptors from IQH to IQT until done or stalled. */
    void process() {
        PhysicalMemory memory = unit.memory();
        long base = iqa & VtdEntries.ADDR_MASK;
        while (head != tail && !stalled()) {
            long at = base + head;
            if (!memory.contains(at, descSize())) {
                error(VtdRegs.IQEI_FETCH_ERROR);
                return;
            }
            boolean wide = descSize() == 32;
            QiDescriptor d = new QiDescriptor(memory.readLong(at), memory.readLong(at + 8),
                    wide ? memory.readLong(at + 16) : 0, wide ? memory.readLong(at + 24) : 0);
            QiExecutor.Outcome valid = QiExecutor.validate(d);
            if (valid != QiExecutor.Outcome.DONE) {
                error(valid == QiExecutor.Outcome.INVALID_TYPE ? VtdRegs.IQEI_INVALID_TYPE
                        : VtdRegs.IQEI_RESERVED_FIELD);
                return;
            }
            if (d.type() == QiDescriptor.TYPE_WAIT) {
                Wait w = new Wait(head, d, deviceTlb.issued(),
                        d.has(QiDescriptor.IWD_PRQ_DRAIN) ? unit.prq().received() : 0);
                waits.add(w);
                completeWaits();
                if (waits.contains(w) && d.has(QiDescriptor.IWD_FENCE)) {
                    fenceBlocked = true;
                    return;
                }
            } else if (executor.execute(d) == QiExecutor.Outcome.NO_ITAG) {
                return;
            }
            head = (head + descSize()) % size();
        }
    }

    /** Something a held wait or a stalled fetch may depend on has finished. */
    void progress() {
        completeWaits();
        process();
    }

    private void completeWaits() {
        while (!waits.isEmpty()) {
            Wait w = waits.peek();
            boolean drained = !w.d().has(QiDescriptor.IWD_PRQ_DRAIN) || unit.prq().processed() >= w.prqBarrier();
            if (!deviceTlb.retiredBefore(w.deviceTlbBarrier()) || !drained) {
                return;
            }
            waits.poll();
            complete(w);
            if (fenceBlocked && w.offset() == head) {
                fenceBlocked = false;
                head = (head + descSize()) % size();
            }
        }
    }

    private void complete(Wait w) {
        QiDescriptor d = w.d();
        String iwc = d.has(QiDescriptor.IWD_INTERRUPT) ? ", IWC" : "";
        if (d.has(QiDescriptor.IWD_STATUS_WRITE)) {
            trace("invalidation wait at IQH %#x complete, status %#x -> %#x%s", w.offset(), d.waitStatusData(),
                    d.waitStatusAddr(), iwc);
        } else {
            trace("invalidation wait at IQH %#x complete%s", w.offset(), iwc);
        }
        if (d.has(QiDescriptor.IWD_STATUS_WRITE) && unit.memory().contains(d.waitStatusAddr(), 4)) {
            unit.memory().writeInt(d.waitStatusAddr(), d.waitStatusData());
        }
        if (d.has(QiDescriptor.IWD_INTERRUPT) && (ics & VtdRegs.ICS_IWC) == 0) {
            ics |= VtdRegs.ICS_IWC;
            completionEvent.raise();
        }
    }

    private void error(int iqei) {
        iqercd = (iqercd & ~0xfL) | iqei;
        trace("invalidation queue error IQEI %d at IQH %#x", iqei, head);
        unit.faults().setErrorStatus(VtdRegs.FSTS_IQE);
    }

    /** FSTS.ITE: the held waits are aborted; fetching stops with IQH where it is. */
    private void deviceTlbTimeout(int rid) {
        iqercd = (iqercd & ~(0xffffL << 32)) | (long) (rid & 0xffff) << 32;
        trace("device-TLB invalidation time-out (ITESID %04x): %d held wait(s) aborted", rid, waits.size());
        waits.clear();
        fenceBlocked = false;
        unit.faults().setErrorStatus(VtdRegs.FSTS_ITE);
    }

    /** FSTS.ICE: an Invalidate Completion for no outstanding request. */
    private void invalidCompletion(int rid) {
        iqercd = (iqercd & ~(0xffffL << 48)) | (long) (rid & 0xffff) << 48;
        unit.faults().setErrorStatus(VtdRegs.FSTS_ICE);
    }

    private void trace(String format, Object... args) {
        if (unit.loop().trace().enabled()) { // spares the prefixed format and arguments when nobody listens
            unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi",
                    "%s: " + format, Trace.prepend(unit.config().name(), args));
        }
    }
}
