package dev.iommulab.core.mm;

/** The FAULT_FLAG_* bits passed to handle_mm_fault() (include/linux/mm_types.h). */
public final class FaultFlags {

    public static final int FAULT_FLAG_WRITE = 1 << 0;
    public static final int FAULT_FLAG_REMOTE = 1 << 7;
    public static final int FAULT_FLAG_USER = 1 << 6;
    public static final int FAULT_FLAG_INSTRUCTION = 1 << 8;
    /**
     * Break COW without writing: a read-only leaf that maps something other than an exclusive private page (here the
     * zero page) gets a private copy, still mapped read-only. Set by a read-only long-term pin (gup_must_unshare());
     * incompatible with {@link #FAULT_FLAG_WRITE}.
     */
    public static final int FAULT_FLAG_UNSHARE = 1 << 10;

    private FaultFlags() {
    }
}
