package dev.iommulab.drivers;

import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.Collection;

/**
 * Policy {@code fault.overflow-recovery}: what a driver does after it found that its IOMMU lost fault records
 * (RISC-V {@code fqof} or {@code fqmf}, VT-d FSTS.PFO) and cleared the condition. The kernel only logs and
 * clears ({@code riscv_iommu_fltq_process()}, {@code dmar_fault()}; reference/iommu-hardware.md §2.1.2, §2.4.2,
 * reference/linux-fault-stack.md §6.4): faults of any function may be among the lost ones, and their DMAs got
 * their error responses all the same, so nothing software can see names the functions that faulted.
 */
public interface FaultOverflowRecovery {

    /**
     * Called by the driver in process context (RISC-V: the fault-queue thread; VT-d: a work item queued by the
     * hard IRQ handler, because a reset sleeps) once per overflow it cleared; never from hard IRQ context.
     *
     * @param endpoints every PCI function behind that IOMMU
     * @param log       the kernel log
     */
    void recover(Collection<PcieEndpoint> endpoints, KernelLog log);

    /** {@code none}: nothing (the kernel's behaviour; the default). */
    FaultOverflowRecovery NONE = (endpoints, log) -> { };

    /**
     * {@code reset-devices}: resets every function behind the IOMMU (FLR with ATS, PASID and PRI restored,
     * {@link dev.iommulab.core.kernel.PciReset#resetFunction}), each logged
     * {@code "pci 0000:00:04.0: resetting after fault record overflow"}. Every function, not only those whose
     * records the driver read: the lost records could belong to any of them.
     */
    FaultOverflowRecovery RESET_DEVICES = (endpoints, log) ->
            FunctionReset.resetAll(endpoints, log, "fault record overflow");
}
