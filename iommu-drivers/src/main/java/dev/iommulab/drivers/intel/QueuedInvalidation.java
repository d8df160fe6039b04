package dev.iommulab.drivers.intel;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;

/**
 * Counterpart of qi_submit_sync() in drivers/iommu/intel/dmar.c, the driver side of queued invalidation:
 * writes descriptors at the tail, follows them with a wait descriptor whose status write tells that
 * the unit has fetched them all, and moves the tail.
 */
final class QueuedInvalidation {

    private static final int QI_DONE = 2;
    private static final int QI_IN_USE = 1;

    private final VtdUnit unit;
    private final PhysicalMemory memory;
    private final long ring;
    private final long ringSize;
    private final long statusAddr;
    private long tail;

    QueuedInvalidation(VtdUnit unit, FrameAllocator frames) {
        this.unit = unit;
        this.memory = frames.memory();
        this.ring = frames.allocate();
        this.ringSize = 4096;
        this.statusAddr = frames.allocate();
        unit.writeReg(VtdRegs.IQA, ring | VtdRegs.IQA_DW_256);
        unit.writeReg(VtdRegs.IQT, 0);
        unit.writeReg(VtdRegs.GCMD, unit.readReg(VtdRegs.GSTS) | VtdRegs.GCMD_QIE);
    }

    /**
     * Submits {@code descriptors} and a wait; returns true when the unit completed them at once (the
     * wait's status was written), false when it has not: a device-TLB invalidation completes only when
     * the function's Invalidate Completion arrives, later in simulated time (this simulation cannot
     * spin as qi_submit_sync() does; the unit holds the fenced wait and what follows it meanwhile), or
     * the unit stopped on a queue error.
     */
    boolean submitSync(QiDescriptor... descriptors) {
        submit(QiDescriptor.IWD_FENCE, descriptors);
        return done();
    }

    /**
     * {@code qi_submit_sync()} as the kernel runs it from process context: as {@link #submitSync}, and the caller
     * sleeps until the unit writes the wait's status — device-TLB invalidations included, whose completion arrives
     * from the function later in simulated time. For callers that free memory next (the mmu notifier).
     *
     * @return false when the unit never completes the wait (nothing is left to run first); true once it did
     */
    boolean submitSyncAndWait(EventLoop loop, QiDescriptor... descriptors) {
        submit(QiDescriptor.IWD_FENCE, descriptors);
        return loop.runUntil(this::done);
    }

    /**
     * {@code qi_submit_sync(iommu, desc, n, QI_OPT_WAIT_DRAIN)} from process context: as {@link #submitSync}, with
     * the Page-request Drain flag on the wait, and the caller sleeps until the unit writes the wait's status — that
     * is, until every earlier descriptor completed and every page request that had reached the unit when the wait
     * was fetched was queued or answered (VT-d spec §7.10).
     *
     * @return false when the unit never completes the wait (it stopped on a queue error and nothing is left to
     *         run); true once it did
     */
    boolean submitSyncWaitDrain(EventLoop loop, QiDescriptor... descriptors) {
        submit(QiDescriptor.IWD_FENCE | QiDescriptor.IWD_PRQ_DRAIN, descriptors);
        return loop.runUntil(this::done);
    }

    /** The descriptors, then a wait with status write and {@code waitFlags}; the tail moves past them. */
    private void submit(long waitFlags, QiDescriptor... descriptors) {
        memory.writeInt(statusAddr, QI_IN_USE);
        for (QiDescriptor d : descriptors) {
            put(d);
        }
        put(QiDescriptor.invalidationWait(QI_DONE, statusAddr, waitFlags));
        unit.writeReg(VtdRegs.IQT, tail);
    }

    private boolean done() {
        return memory.readInt(statusAddr) == QI_DONE;
    }

    private void put(QiDescriptor d) {
        long at = ring + tail;
        memory.writeLong(at, d.qw0());
        memory.writeLong(at + 8, d.qw1());
        memory.writeLong(at + 16, d.qw2());
        memory.writeLong(at + 24, d.qw3());
        tail = (tail + VtdRegs.DESC_SIZE) % ringSize;
    }
}
