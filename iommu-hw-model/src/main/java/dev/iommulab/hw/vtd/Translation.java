package dev.iommulab.hw.vtd;

/**
 * A translation of one page as the unit holds it in its IOTLB: input page, output page, the rights
 * of the whole walk (both stages for nested), and whether the entry is already dirty so that a write
 * needs no A/D update.
 *
 * @param inBase  input address of the page (aligned to {@code size})
 * @param outBase output (host physical) address of the page
 * @param user    the first stage allows user-mode access (always true without a first stage)
 * @param dirty   a write needs no D update (D already set, or the stage does not track it)
 */
record Translation(Kind kind, long inBase, long size, long outBase, boolean read, boolean write, boolean exec,
                   boolean user, boolean dirty) {

    /** Which structures produced the translation; invalidations select entries by it. */
    enum Kind {
        FIRST_STAGE, SECOND_STAGE, NESTED, PASS_THROUGH, LEGACY_SECOND_LEVEL, LEGACY_PASS_THROUGH;

        boolean usesFirstStage() {
            return this == FIRST_STAGE || this == NESTED;
        }
    }

    /** The page sizes the IOTLB files translations under, probed smallest first (VT-d spec §6.2.4). */
    static final long[] IOTLB_PAGE_SIZES = {4096, 1L << 21, 1L << 30};

    /** The IOTLB tag of translations of {@code pasid} (-1 in legacy mode) in domain {@code did}. */
    static long iotlbTag(int did, int pasid) {
        return (long) did << 32 | pasid & 0xffffffffL;
    }

    static int tagDid(long tag) {
        return (int) (tag >>> 32);
    }

    static int tagPasid(long tag) {
        return (int) tag;
    }

    /** A 4 KiB identity translation with every right. */
    static Translation passThrough(Kind kind, long addr) {
        long page = addr & ~0xfffL;
        return new Translation(kind, page, 4096, page, true, true, true, true, true);
    }

    long pa(long addr) {
        return outBase + (addr - inBase);
    }

    boolean covers(long addr) {
        return addr >= inBase && addr - inBase < size;
    }

    boolean overlaps(long addr, long length) {
        return addr < inBase + size && inBase < addr + length;
    }

    /**
     * Whether a cached copy can serve a request as it is: every requested right granted and, for a
     * write, no D update needed. Anything else is walked again (the cache never decides a fault).
     */
    boolean satisfies(boolean needWrite, boolean needExec, boolean priv) {
        return read && (!needWrite || write && dirty) && (!needExec || exec) && (priv || user);
    }

    Translation dirtied() {
        return dirty ? this : new Translation(kind, inBase, size, outBase, read, write, exec, user, true);
    }
}
