package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.MemoryRing;
import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The fault queue (riscv-iommu "Fault/Event-Queue (FQ)" and register {@code fqcsr}; reference/iommu-hardware.md
 * §2.4.2, §6 scenarios 1-4; RV-REF {@code report_fault}): 32-byte records written at {@code fqt}, software
 * consumes from {@code fqh}. When the queue is full the record is discarded and {@code fqof} set; when the
 * record write faults, {@code fqmf}. While either is set every further record is discarded, until software
 * clears it (RW1C). {@code DC.tc.DTF} suppresses the records of translation causes. Each written record and
 * each error asks for the fault interrupt ({@code ipsr.fip}). With the lab's invented option {@code fault-quota}
 * a device's records beyond its quota are coalesced or discarded instead ({@link FaultQuota}). The ring and
 * {@code fqof} are a {@link MemoryRing} of style {@link OverflowStyle#RISCV_FAULT_QUEUE}.
 */
final class FaultQueue {

    private final PhysicalMemory memory;
    private final InterruptPending ipsr;
    private final MemoryRing ring;
    private final FaultQuota quota;
    private long fqb;
    private int csr;

    /** What became of a record handed to {@link #record}. */
    enum Result {
        RECORDED, NOT_RECORDED, COALESCED, OVER_QUOTA;

        boolean recorded() {
            return this == RECORDED;
        }
    }

    FaultQueue(PhysicalMemory memory, InterruptPending ipsr, int faultQuota) {
        this.memory = memory;
        this.ipsr = ipsr;
        this.quota = new FaultQuota(faultQuota);
        this.ring = new MemoryRing(memory, OverflowStyle.RISCV_FAULT_QUEUE, RiscvRegs.FQ_ENTRY_SIZE);
        fqb = RiscvRegs.writeQueueBase(ring, 0);
        ipsr.setLevelCondition(RiscvRegs.IPSR_FIP, () -> has(RiscvRegs.FQCSR_FIE)
                && has(RiscvRegs.FQCSR_FQOF | RiscvRegs.FQCSR_FQMF) ? 1 : 0);
    }

    /** {@code fqcsr}: the stored bits and {@code fqof} from the ring. */
    private int csr() {
        return csr | (ring.overflowPending() ? RiscvRegs.FQCSR_FQOF : 0);
    }

    private boolean has(int bits) {
        return (csr() & bits) != 0;
    }

    long readReg(int offset) {
        return switch (offset) {
            case RiscvRegs.FQB -> fqb;
            case RiscvRegs.FQH -> ring.head();
            case RiscvRegs.FQT -> ring.tail();
            case RiscvRegs.FQCSR -> csr();
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case RiscvRegs.FQB -> {
                fqb = RiscvRegs.writeQueueBase(ring, value);
                ring.setHead(ring.head());
                quota.reset();
            }
            case RiscvRegs.FQH -> ring.setHead(value);
            case RiscvRegs.FQCSR -> writeCsr((int) value);
            default -> {
            }
        }
    }

    private void writeCsr(int value) {
        boolean fieWasSet = has(RiscvRegs.FQCSR_FIE);
        csr &= ~(value & RiscvRegs.FQCSR_FQMF);
        if ((value & RiscvRegs.FQCSR_FQOF) != 0) {
            ring.acknowledgeOverflow();
        }
        boolean enable = (value & RiscvRegs.FQCSR_FQEN) != 0;
        if (enable && !has(RiscvRegs.FQCSR_FQEN)) {
            ring.setTail(0);
            ring.acknowledgeOverflow();
            quota.reset();
            csr &= ~RiscvRegs.FQCSR_FQMF;
            csr |= RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FQON;
        } else if (!enable) {
            csr &= ~(RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FQON);
        }
        csr = csr & ~RiscvRegs.FQCSR_FIE | value & RiscvRegs.FQCSR_FIE;
        if (!fieWasSet && has(RiscvRegs.FQCSR_FIE) && has(RiscvRegs.FQCSR_FQMF | RiscvRegs.FQCSR_FQOF)) {
            requestInterrupt(); // RV-I98: enabling fie with an error bit pending signals it
        }
    }

    /**
     * Queues {@code record} unless the queue is off, an error is pending, {@code dtf} suppresses the cause,
     * or the queue is full or its memory faults (setting {@code fqof}/{@code fqmf}); with a fault quota, a
     * device at its quota has the record coalesced or discarded ({@link FaultQuota}).
     */
    Result record(RiscvFaultRecord record, boolean dtf) {
        if (!has(RiscvRegs.FQCSR_FQEN) || !has(RiscvRegs.FQCSR_FQON)
                || has(RiscvRegs.FQCSR_FQMF | RiscvRegs.FQCSR_FQOF)) {
            return Result.NOT_RECORDED;
        }
        if (dtf && !RiscvCause.reportedWhenDtf(record.cause())) {
            return Result.NOT_RECORDED;
        }
        switch (quota.apply(ring, memory, record)) {
            case COALESCED -> {
                return Result.COALESCED;
            }
            case DISCARDED -> {
                return Result.OVER_QUOTA;
            }
            default -> {
            }
        }
        int slot = ring.tail();
        MemoryRing.Push push = ring.push(record);
        if (push == MemoryRing.Push.WRITE_FAULT) {
            csr |= RiscvRegs.FQCSR_FQMF;
        } else if (push.written()) {
            quota.wrote(slot, record);
        }
        requestInterrupt();
        return push.written() ? Result.RECORDED : Result.NOT_RECORDED;
    }

    /** The slot the last {@link Result#COALESCED} record was counted in. */
    int coalescedSlot() {
        return quota.lastSlot();
    }

    private void requestInterrupt() {
        ipsr.request(RiscvRegs.IPSR_FIP, has(RiscvRegs.FQCSR_FIE));
    }
}
