package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;

/**
 * What a directory walk located — a device context (GET_DC) or a process context (GET_PC) — or the fault that stopped
 * it, with the riscv-iommu cause code.
 *
 * @param <C> the context a walk locates
 */
record Located<C>(C context, Outcome.Fault fault) {

    /** The walk stopped with {@code cause}. */
    static <C> Located<C> fault(int cause, HwFaultReason reason) {
        return new Located<>(null, Outcome.Fault.of(cause, reason));
    }

    boolean ok() {
        return fault == null;
    }
}
