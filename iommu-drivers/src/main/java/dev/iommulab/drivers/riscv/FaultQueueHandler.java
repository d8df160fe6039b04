package dev.iommulab.drivers.riscv;

import dev.iommulab.core.kernel.Ratelimit;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.riscv.RiscvFaultRecord;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * The fault-queue interrupt thread, the counterpart of {@code riscv_iommu_fltq_process()} and
 * {@code riscv_iommu_fault()} in drivers/iommu/riscv/iommu.c (reference/linux-fault-stack.md §6.4,
 * reference/iommu-hardware.md §2.4.2): clear {@code ipsr.fip} first, consume every record from
 * {@code fqh} to {@code fqt} and log it ("report only"), move {@code fqh}, then clear {@code fqmf} and
 * {@code fqof} by writing {@code fqcsr} back, with a warning. Records are logged with the kernel's
 * rate-limited text {@code "Fault %d devid: 0x%x iotval: %llx iotval2: %llx"} (the call site's
 * {@link Ratelimit} state, shared by every RISC-V IOMMU of the kernel as the macro's static is). (Before the driver was
 * merged the function was {@code riscv_iommu_fault_report()} and printed the devid in decimal; the merged
 * driver's text is the one used here.)
 *
 * <p>Beyond mainline: after clearing {@code fqmf}/{@code fqof} the thread applies the policy
 * {@code fault.overflow-recovery} ({@link FaultOverflowRecovery}; default {@code none}, the kernel's behaviour).
 * A record with a coalesced-fault count (the lab's invented option {@code fault-quota}) is logged as any other
 * record — the kernel does not read the custom field — and its count goes to the trace.
 */
final class FaultQueueHandler {

    private final RiscvIommuDevice iommu;
    private final HwQueue queue;
    private final Ratelimit ratelimit;
    private final Supplier<Collection<PcieEndpoint>> endpoints;
    private final FaultOverflowRecovery recovery;

    /** {@code endpoints}: the functions behind the IOMMU, for {@code recovery}. */
    FaultQueueHandler(RiscvIommuDevice iommu, HwQueue queue, Supplier<Collection<PcieEndpoint>> endpoints,
                      FaultOverflowRecovery recovery) {
        this.iommu = iommu;
        this.queue = queue;
        this.ratelimit = iommu.log.ratelimitState("riscv_iommu_fault");
        this.endpoints = endpoints;
        this.recovery = recovery;
    }

    /** The hard IRQ handler: wakes the thread when {@code ipsr.fip} is set. */
    void irq() {
        iommu.queueIpsr(queue, "fltq", "fault queue interrupt, waking the fault queue thread", this::process);
    }

    /** Counterpart of riscv_iommu_fltq_process(). */
    void process() {
        iommu.hw.writeReg(RiscvRegs.IPSR, queue.ipsrBit());
        queue.consume((head, tail, count) -> iommu.trace("riscv_iommu_fltq_process", "fqh %d fqt %d: %d record(s)", head, tail, count),
                at -> fault(RiscvFaultRecord.readFrom(iommu.memory, at), RiscvFaultRecord.coalescedCount(iommu.memory, at)));
        int ctrl = (int) iommu.hw.readReg(queue.qcr);
        if ((ctrl & (RiscvRegs.FQCSR_FQMF | RiscvRegs.FQCSR_FQOF)) != 0) {
            iommu.hw.writeReg(queue.qcr, ctrl);
            iommu.devWarn("Queue #%d error; memory fault:%d overflow:%d", queue.qid,
                    CommandQueue.bit(ctrl, RiscvRegs.FQCSR_FQMF), CommandQueue.bit(ctrl, RiscvRegs.FQCSR_FQOF));
            recovery.recover(endpoints.get(), iommu.log);
        }
    }

    /** Counterpart of riscv_iommu_fault(): "Placeholder for future fault handling implementation, report only." */
    private void fault(RiscvFaultRecord event, long coalesced) {
        if (coalesced != 0) {
            iommu.trace("riscv_iommu_fault", "record of devid 0x%x cause %d counts %d further fault(s) (fault-quota)",
                    event.did(), event.cause(), coalesced);
        }
        if (event.cause() != 0 && ratelimit.allow()) {
            iommu.devWarn("Fault %d devid: 0x%x iotval: %x iotval2: %x", event.cause(), event.did(), event.iotval(),
                    event.iotval2());
        }
    }
}
