package dev.iommulab.hw.vtd;

/**
 * A translation a walk has just produced. Using it may still need the hardware's A/D updates in the
 * tables ({@link #adUpdate}), which can themselves fault (0x77, 0x7C, 0x90).
 */
record Walked(Translation translation, AdUpdate adUpdate) {

    /** Sets A (and D for a write) where the walk needs it; returns the fault, or null. */
    @FunctionalInterface
    interface AdUpdate {
        VtdFaultReason apply(boolean write);
    }

    static Walked withoutUpdates(Translation t) {
        return new Walked(t, write -> null);
    }
}
