package dev.iommulab.hw.vtd;

/**
 * One step of the unit's work: what it found ({@code value}), or the fault that stopped it together with
 * whether an FPD bit seen so far applies to it.
 */
record Found<T>(T value, VtdFaultReason fault, boolean fpd) {

    static <T> Found<T> of(T value) {
        return new Found<>(value, null, false);
    }

    static <T> Found<T> fault(VtdFaultReason reason, boolean fpd) {
        return new Found<>(null, reason, fpd);
    }

    boolean ok() {
        return fault == null;
    }

    /** The same fault for another kind of value. */
    <U> Found<U> cast() {
        return new Found<>(null, fault, fpd);
    }
}
