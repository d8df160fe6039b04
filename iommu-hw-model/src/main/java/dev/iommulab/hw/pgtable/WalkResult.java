package dev.iommulab.hw.pgtable;

/** The outcome of a page-table walk: a leaf with its effective rights, or the step that failed. */
public sealed interface WalkResult permits WalkResult.Leaf, WalkResult.Fault {

    /**
     * A present leaf. Rights are the combination over all levels (writable and user only if every
     * level allows it, executable unless some level sets XD).
     *
     * @param pa       physical address of the translated byte
     * @param pageSize size of the page the leaf maps
     * @param level    level of the leaf (1 = 4 KiB PTE, 2 = 2 MiB PDE, 3 = 1 GiB PDPTE)
     * @param pteAddr  physical address of the leaf entry
     */
    record Leaf(long pa, long pageSize, int level, boolean writable, boolean user, boolean executable,
                boolean accessed, boolean dirty, long pteAddr) implements WalkResult {
    }

    /**
     * The walk stopped.
     *
     * @param level    the level whose entry was bad (for {@link Cause#NON_CANONICAL}, the top level)
     * @param cause    why
     * @param entryAddr physical address of the offending entry, or -1 when no entry was read
     */
    record Fault(int level, Cause cause, long entryAddr) implements WalkResult {
    }

    /** Why a walk stopped. */
    enum Cause {
        /** The input address is not canonical for the paging mode. */
        NON_CANONICAL,
        /** A table lies outside physical memory (the walk's own read would abort). */
        FETCH_ERROR,
        /** An entry has P = 0. */
        NOT_PRESENT,
        /** An entry sets a bit that must be zero. */
        RESERVED_BITS
    }
}
