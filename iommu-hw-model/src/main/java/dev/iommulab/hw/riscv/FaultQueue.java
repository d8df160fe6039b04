package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The fault queue (riscv-iommu "Fault/Event-Queue (FQ)" and register {@code fqcsr}; reference/iommu-hardware.md
 * §2.4.2, §6 scenarios 1-4; RV-REF {@code report_fault}): 32-byte records written at {@code fqt}, software
 * consumes from {@code fqh}. When the queue is full the record is discarded and {@code fqof} set; when the
 * record write faults, {@code fqmf}. While either is set every further record is discarded, until software
 * clears it (RW1C). {@code DC.tc.DTF} suppresses the records of translation causes. Each written record and
 * each error asks for the fault interrupt ({@code ipsr.fip}). With the lab's invented option {@code fault-quota}
 * a device's records beyond its quota are coalesced or discarded instead ({@link FaultQuota}). The registers
 * and the ring are a {@link ProducerQueue} of style {@link OverflowStyle#RISCV_FAULT_QUEUE}.
 */
final class FaultQueue {

    private final PhysicalMemory memory;
    private final ProducerQueue queue;
    private final FaultQuota quota;

    /** What became of a record handed to {@link #record}. */
    enum Result {
        RECORDED, NOT_RECORDED, COALESCED, OVER_QUOTA;

        boolean recorded() {
            return this == RECORDED;
        }
    }

    FaultQueue(PhysicalMemory memory, InterruptPending ipsr, int faultQuota) {
        this.memory = memory;
        this.quota = new FaultQuota(faultQuota);
        this.queue = new ProducerQueue(memory, OverflowStyle.RISCV_FAULT_QUEUE, RiscvRegs.FQ_ENTRY_SIZE, ipsr,
                RiscvRegs.IPSR_FIP, RiscvRegs.FQB, RiscvRegs.FQCSR, quota::reset);
    }

    long readReg(int offset) {
        return queue.readReg(offset);
    }

    void writeReg(int offset, long value) {
        queue.writeReg(offset, value);
    }

    /**
     * Queues {@code record} unless the queue is off, an error is pending, {@code dtf} suppresses the cause,
     * or the queue is full or its memory faults (setting {@code fqof}/{@code fqmf}); with a fault quota, a
     * device at its quota has the record coalesced or discarded ({@link FaultQuota}).
     */
    Result record(RiscvFaultRecord record, boolean dtf) {
        if (!queue.accepting() || dtf && !RiscvCause.reportedWhenDtf(record.cause())) {
            return Result.NOT_RECORDED;
        }
        switch (quota.apply(queue.ring(), memory, record)) {
            case COALESCED -> {
                return Result.COALESCED;
            }
            case DISCARDED -> {
                return Result.OVER_QUOTA;
            }
            default -> {
            }
        }
        int slot = queue.ring().tail();
        if (!queue.push(record).written()) {
            return Result.NOT_RECORDED;
        }
        quota.wrote(slot, record);
        return Result.RECORDED;
    }

    /** The slot the last {@link Result#COALESCED} record was counted in. */
    int coalescedSlot() {
        return quota.lastSlot();
    }
}
