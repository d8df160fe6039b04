package dev.iommulab.drivers.riscv;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.function.LongConsumer;
import java.util.function.LongPredicate;

/**
 * One in-memory queue of the IOMMU as the driver sees it, {@code struct riscv_iommu_queue} with
 * {@code riscv_iommu_queue_alloc()} and {@code riscv_iommu_queue_enable()} (drivers/iommu/riscv/iommu.c).
 * The base, head, tail and CSR registers of the command, fault and page-request queues sit at the same
 * relative offsets and their CSR fields at the same bits, so one class serves all three.
 *
 * <p>Sizing as the kernel does it: for a requested {@code count} the kernel starts from {@code mask = count - 1}
 * and programs {@code LOG2SZ-1 = ilog2(mask)}, capped by the largest value the base register's WARL field
 * keeps; the queue then has {@code 2^(LOG2SZ-1 + 1)} slots, i.e. {@code count} rounded up to a power of two
 * (8192 stays 8192, 300 becomes 512, 2 stays 2). A ring of N slots holds N - 1 entries (full when the tail is
 * one behind the head).
 */
final class HwQueue {

    /** {@code RISCV_IOMMU_QUEUE_ENABLE}, {@code _INTR_ENABLE}, {@code _MEM_FAULT}, {@code _ACTIVE}, {@code _BUSY}. */
    static final int QUEUE_ENABLE = 1;
    static final int QUEUE_INTR_ENABLE = 1 << 1;
    static final int QUEUE_MEM_FAULT = 1 << 8;
    static final int QUEUE_ACTIVE = 1 << 16;
    static final int QUEUE_BUSY = 1 << 17;

    /** {@code enum riscv_iommu_intr}: queue ids, also the queue's bit in {@code ipsr}. */
    static final int INTR_CQ = 0;
    static final int INTR_FQ = 1;
    static final int INTR_PQ = 3;

    private final RiscvIommu hw;
    final int qid;
    /** Offsets of {@code xqb} and {@code xqcsr}. */
    final int qbr;
    final int qcr;
    final int entrySize;
    /** Slots - 1, after allocation. */
    int mask;
    /** Physical address of slot 0, after allocation. */
    long phys;

    private HwQueue(RiscvIommu hw, int qid, int qbr, int qcr, int entrySize) {
        this.hw = hw;
        this.qid = qid;
        this.qbr = qbr;
        this.qcr = qcr;
        this.entrySize = entrySize;
    }

    static HwQueue commandQueue(RiscvIommu hw) {
        return new HwQueue(hw, INTR_CQ, RiscvRegs.CQB, RiscvRegs.CQCSR, RiscvRegs.CQ_ENTRY_SIZE);
    }

    static HwQueue faultQueue(RiscvIommu hw) {
        return new HwQueue(hw, INTR_FQ, RiscvRegs.FQB, RiscvRegs.FQCSR, RiscvRegs.FQ_ENTRY_SIZE);
    }

    static HwQueue pageRequestQueue(RiscvIommu hw) {
        return new HwQueue(hw, INTR_PQ, RiscvRegs.PQB, RiscvRegs.PQCSR, RiscvRegs.PQ_ENTRY_SIZE);
    }

    /** {@code Q_HEAD(q)}: {@code cqh}, {@code fqh} or {@code pqh}. */
    int headReg() {
        return qbr + (RiscvRegs.CQH - RiscvRegs.CQB);
    }

    /** {@code Q_TAIL(q)}: {@code cqt}, {@code fqt} or {@code pqt}. */
    int tailReg() {
        return qbr + (RiscvRegs.CQT - RiscvRegs.CQB);
    }

    /** {@code Q_IPSR(q)}: the queue's bit in {@code ipsr}. */
    int ipsrBit() {
        return 1 << qid;
    }

    /** Number of slots. */
    int slots() {
        return mask + 1;
    }

    long slotAddress(int index) {
        return phys + (long) (index & mask) * entrySize;
    }

    /**
     * Counterpart of riscv_iommu_queue_alloc(): discovers the largest {@code LOG2SZ} through the WARL base
     * register, allocates zeroed contiguous memory for {@code count} entries rounded up to a power of two,
     * programs the base register and reads it back.
     *
     * @throws KernelException ENOMEM when memory cannot be allocated, ENODEV when the register does not keep
     *                         the value ("queue #%u allocation failed")
     */
    void alloc(FrameAllocator frames, int count, String devPrefix, KernelLog log) {
        if (count < 2) {
            throw new KernelException(Errno.EINVAL, "count", "a queue needs at least 2 entries: " + count);
        }
        hw.writeReg(qbr, RiscvRegs.QB_LOG2SZ_MASK);
        long qb = hw.readReg(qbr);
        int logsz = Math.min(31 - Integer.numberOfLeadingZeros(count - 1), (int) (qb & RiscvRegs.QB_LOG2SZ_MASK));
        long bytes = (long) entrySize << (logsz + 1);
        int pages = (int) Math.max(1, (bytes + 4095) / 4096);
        phys = frames.allocateContiguous(pages);
        qb = RiscvRegs.queueBase(phys, 2L << logsz);
        hw.writeReg(qbr, qb);
        if (hw.readReg(qbr) != qb) {
            log.err("%s: queue #%d allocation failed", devPrefix, qid);
            throw new KernelException(Errno.ENODEV, "queue", "queue #" + qid + " allocation failed");
        }
        mask = (2 << logsz) - 1;
    }

    /**
     * Counterpart of riscv_iommu_queue_enable() after request_threaded_irq(): enables the queue with its
     * interrupt (clearing a memory fault), checks that it became active, and clears its pending bit.
     *
     * @throws KernelException EBUSY when the queue did not start ("queue #%u failed to start")
     */
    void enable(String devPrefix, KernelLog log) {
        hw.writeReg(qcr, QUEUE_ENABLE | QUEUE_INTR_ENABLE | QUEUE_MEM_FAULT);
        int csr = (int) hw.readReg(qcr);
        if ((csr & (QUEUE_ACTIVE | QUEUE_BUSY | QUEUE_MEM_FAULT)) != QUEUE_ACTIVE) {
            hw.writeReg(qcr, 0);
            log.err("%s: queue #%d failed to start", devPrefix, qid);
            throw new KernelException(Errno.EBUSY, "queue", "queue #" + qid + " failed to start");
        }
        hw.writeReg(RiscvRegs.IPSR, ipsrBit());
    }

    /**
     * Counterpart of the consume loop the kernel's queue threads share ({@code riscv_iommu_queue_consume()}
     * and {@code riscv_iommu_queue_release()}): hands every slot between head and tail to
     * {@code record}, moves the head past them, and repeats until the tail stops moving.
     *
     * @param onBatch told (head, tail, count) before each non-empty batch, for the trace
     */
    void consume(BatchListener onBatch, LongConsumer record) {
        int count;
        do {
            int head = (int) hw.readReg(headReg()) & mask;
            int tail = (int) hw.readReg(tailReg()) & mask;
            count = (tail - head) & mask;
            if (count > 0) {
                onBatch.batch(head, tail, count);
            }
            for (int i = head; i != tail; i = (i + 1) & mask) {
                record.accept(slotAddress(i));
            }
            hw.writeReg(headReg(), tail);
        } while (count > 0);
    }

    /** Whether a slot between head and tail — written by the IOMMU, not yet consumed — satisfies {@code match}. */
    boolean anyUnconsumed(LongPredicate match) {
        int tail = (int) hw.readReg(tailReg()) & mask;
        for (int i = (int) hw.readReg(headReg()) & mask; i != tail; i = (i + 1) & mask) {
            if (match.test(slotAddress(i))) {
                return true;
            }
        }
        return false;
    }

    /** Told about each batch {@link #consume} takes. */
    @FunctionalInterface
    interface BatchListener {
        void batch(int head, int tail, int count);
    }
}
