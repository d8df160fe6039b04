package dev.iommulab.drivers.riscv;

import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvRegs;

/**
 * The driver side of the command queue (drivers/iommu/riscv/iommu.c): {@code riscv_iommu_cmd_send()}
 * ({@code riscv_iommu_queue_send()}: store the command at the producer index, move {@code cqt}),
 * {@code riscv_iommu_cmd_sync()} (an {@code IOFENCE.C} with PR and PW, then watch {@code cqh} pass it) and
 * the queue's interrupt thread {@code riscv_iommu_cmdq_process()}.
 *
 * <p>The kernel spins for space and for the fence (up to {@code RISCV_IOMMU_QUEUE_TIMEOUT} /
 * {@code RISCV_IOMMU_IOTINVAL_TIMEOUT}); a simulation event cannot. So {@link #send} on a full ring logs the
 * kernel's "Hardware error: command enqueue failed" (once) and drops the command, and {@link #sync} reports
 * whether the fence has already been executed. An {@code IOFENCE.C} behind an {@code ATS.INVAL} completes
 * only when the function's Invalidate Completion arrives, later in simulated time; the model holds the fence
 * and everything queued after it meanwhile, which keeps the ordering the kernel's wait gives.
 */
final class CommandQueue {

    private final RiscvIommuDevice iommu;
    private final HwQueue queue;
    /** The shadow producer index ({@code queue->prod}, not masked). */
    private int prod;
    private boolean enqueueErrorLogged;

    CommandQueue(RiscvIommuDevice iommu, HwQueue queue) {
        this.iommu = iommu;
        this.queue = queue;
    }

    HwQueue queue() {
        return queue;
    }

    /**
     * Counterpart of riscv_iommu_cmd_send(): the command goes into the ring and {@code cqt} moves; the model
     * starts executing at once.
     *
     * @return the command's producer index, or -1 when the ring was full and the command was dropped
     */
    int send(RiscvCommand cmd) {
        int head = (int) iommu.hw.readReg(queue.headReg());
        int index = prod;
        if (((prod - head) & queue.mask) == queue.mask) {
            if (!enqueueErrorLogged) {
                iommu.devErr("Hardware error: command enqueue failed");
                enqueueErrorLogged = true;
            }
            return -1;
        }
        cmd.writeTo(iommu.memory, queue.slotAddress(prod));
        prod++;
        iommu.hw.writeReg(queue.tailReg(), prod & queue.mask);
        return index;
    }

    /**
     * Counterpart of riscv_iommu_cmd_sync(): queues {@code IOFENCE.C} (PR = PW = 1, no AV, as
     * {@code riscv_iommu_cmd_iofence()} builds it) and checks, as riscv_iommu_queue_wait() does by
     * reading {@code cqh}, whether the IOMMU has executed it.
     *
     * @return true when every earlier command has completed; false while the fence waits (see class comment)
     */
    boolean sync() {
        int fence = send(RiscvCommand.iofenceC(false, false, true, true, 0, 0));
        if (fence < 0) {
            return false;
        }
        return executed(fence);
    }

    /** Whether the command at producer index {@code index} has been executed ({@code cqh} moved past it). */
    private boolean executed(int index) {
        int head = (int) iommu.hw.readReg(queue.headReg());
        int pending = (prod - head) & queue.mask;
        return ((index - head) & queue.mask) >= pending;
    }

    /**
     * Sends {@code commands} and an {@code IOFENCE.C}, then sleeps until the IOMMU executed the fence, as
     * riscv_iommu_cmd_sync() spins on it in the kernel: for callers that free memory next (the lab's mm notifier).
     *
     * @return false when the fence could not be queued or never executed (nothing left to run first)
     */
    boolean sendAndWait(RiscvCommand... commands) {
        for (RiscvCommand c : commands) {
            send(c);
        }
        int fence = send(RiscvCommand.iofenceC(false, false, true, true, 0, 0));
        return fence >= 0 && iommu.loop.runUntil(() -> executed(fence));
    }

    /** Sends {@code commands} and an {@code IOFENCE.C}; see {@link #sync}. */
    boolean sendAndSync(RiscvCommand... commands) {
        for (RiscvCommand c : commands) {
            send(c);
        }
        return sync();
    }

    /** The hard IRQ handler: wakes the thread when {@code ipsr.cip} is set (not traced). */
    void irq() {
        iommu.queueIpsr(queue, "cmdq", null, this::process);
    }

    /**
     * Counterpart of riscv_iommu_cmdq_process(): clears the error bits by writing {@code cqcsr} back with a
     * warning ("complete error recovery to be implemented", as in the kernel), then clears {@code ipsr.cip}.
     */
    void process() {
        int ctrl = (int) iommu.hw.readReg(queue.qcr);
        int errors = RiscvRegs.CQCSR_CQMF | RiscvRegs.CQCSR_CMD_TO | RiscvRegs.CQCSR_CMD_ILL
                | RiscvRegs.CQCSR_FENCE_W_IP;
        if ((ctrl & errors) != 0) {
            iommu.hw.writeReg(queue.qcr, ctrl);
            iommu.devWarn("Queue #%d error; fault:%d timeout:%d illegal:%d fence_w_ip:%d", queue.qid,
                    bit(ctrl, RiscvRegs.CQCSR_CQMF), bit(ctrl, RiscvRegs.CQCSR_CMD_TO),
                    bit(ctrl, RiscvRegs.CQCSR_CMD_ILL), bit(ctrl, RiscvRegs.CQCSR_FENCE_W_IP));
        }
        iommu.hw.writeReg(RiscvRegs.IPSR, queue.ipsrBit());
    }

    static int bit(int value, int mask) {
        return (value & mask) != 0 ? 1 : 0;
    }
}
