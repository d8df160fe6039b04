package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.sim.EventHandle;
import dev.iommulab.hw.sim.EventLoop;

/**
 * The outstanding {@code ATS.INVAL} commands, one per PCIe invalidation tag (ITAG 0-31): riscv-iommu
 * "IOMMU PCIe ATS commands" and the reference model's {@code itag_tracker} (iommu_ats.c). A tag is freed by
 * the function's Invalidate Completion or by the protocol timeout; a timeout is remembered until the next
 * {@code IOFENCE.C} reports it ({@code cqcsr.cmd_to}).
 */
final class AtsInvalidations {

    static final int TAGS = 32;

    private final EventLoop loop;
    private final PcieFabric fabric;
    private final long timeoutNs;
    private final Runnable onChange;
    private final int[] rids = new int[TAGS];
    private final long[] generations = new long[TAGS];
    private final EventHandle[] timers = new EventHandle[TAGS];
    private int busy;
    private long nextGeneration;
    private boolean timedOut;

    /** {@code onChange} runs whenever a tag is freed (completion or timeout). */
    AtsInvalidations(EventLoop loop, PcieFabric fabric, long timeoutNs, Runnable onChange) {
        this.loop = loop;
        this.fabric = fabric;
        this.timeoutNs = timeoutNs;
        this.onChange = onChange;
    }

    /**
     * Sends an Invalidate Request for the {@code ATS.INVAL} payload (G bit 0, S bit 11, untranslated
     * address 63:12 with the PCIe size encoding) to {@code rid}.
     *
     * @return false when no tag is free: the command must wait
     */
    boolean send(int rid, boolean pv, int pid, long payload) {
        if (busy == -1) {
            return false;
        }
        int tag = Integer.numberOfTrailingZeros(~busy);
        long generation = nextGeneration++;
        busy |= 1 << tag;
        rids[tag] = rid;
        generations[tag] = generation;
        long addr = payload & ~0xfffL;
        long size = 4096;
        if ((payload & 1L << 11) != 0) {
            int ones = Long.numberOfTrailingZeros(~(payload >>> 12));
            if (12 + ones + 1 >= 63) {
                addr = 0;
                size = Long.MAX_VALUE & ~0xfffL;
            } else {
                size = 1L << (12 + ones + 1);
                addr &= -size;
            }
        }
        fabric.sendAtsInvalidate(new AtsInvalidateRequest(rid, pv, pid, (payload & 1) != 0, addr, size, tag));
        timers[tag] = loop.schedule(timeoutNs, "riscv-ats-inval-timeout", () -> expire(tag, generation));
        return true;
    }

    private void expire(int tag, long generation) {
        if ((busy & 1 << tag) != 0 && generations[tag] == generation) {
            busy &= ~(1 << tag);
            timedOut = true;
            onChange.run();
        }
    }

    /** An Invalidate Completion from {@code rid}; completions for tags it does not own are ignored. */
    void completion(int rid, int itagVector) {
        boolean freed = false;
        for (int tag = 0; tag < TAGS; tag++) {
            if ((itagVector & busy & 1 << tag) != 0 && rids[tag] == rid) {
                busy &= ~(1 << tag);
                timers[tag].cancel();
                freed = true;
            }
        }
        if (freed) {
            onChange.run();
        }
    }

    boolean anyPending() {
        return busy != 0;
    }

    /** Whether an invalidation timed out since the last call; clears the condition. */
    boolean takeTimedOut() {
        boolean was = timedOut;
        timedOut = false;
        return was;
    }
}
