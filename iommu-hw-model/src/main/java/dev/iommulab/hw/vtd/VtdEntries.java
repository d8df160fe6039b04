package dev.iommulab.hw.vtd;

/**
 * Layouts of the scalable-mode translation structures in memory (VT-d spec §9.1, §9.4, §9.5, §9.6):
 * root entries (16 bytes), scalable context entries (32 bytes), PASID directory entries (8 bytes) and
 * PASID table entries (64 bytes). The driver writes these bits; the unit reads them.
 */
public final class VtdEntries {

    public static final int ROOT_ENTRY_SIZE = 16;
    public static final int SM_CONTEXT_ENTRY_SIZE = 32;
    public static final int PASID_DIR_ENTRY_SIZE = 8;
    public static final int PASID_ENTRY_SIZE = 64;
    /** PASID bits that index the PASID table; the rest index the directory. */
    public static final int PASID_PDE_SHIFT = 6;

    public static final long PRESENT = 1L;
    public static final long FPD = 1L << 1;
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;

    // scalable context entry, qword 0
    public static final long CTX_DTE = 1L << 2;
    public static final long CTX_PASIDE = 1L << 3;
    public static final long CTX_PRE = 1L << 4;
    public static final int CTX_PDTS_SHIFT = 9;
    public static final long CTX_PDTS_MASK = 0x7L << CTX_PDTS_SHIFT;
    // scalable context entry, qword 1
    public static final long CTX_RID_PASID_MASK = 0xfffffL;

    // PASID entry, qword 0
    public static final int PE_PGTT_SHIFT = 6;
    public static final long PE_PGTT_MASK = 0x7L << PE_PGTT_SHIFT;
    public static final int PGTT_FIRST_STAGE = 1;
    public static final int PGTT_SECOND_STAGE = 2;
    public static final int PGTT_NESTED = 3;
    public static final int PGTT_PASS_THROUGH = 4;
    // PASID entry, qword 1
    public static final long PE_DID_MASK = 0xffffL;
    // PASID entry, qword 2
    public static final long PE_SRE = 1L;
    public static final long PE_ERE = 1L << 1;
    public static final int PE_FLPM_SHIFT = 2;
    public static final long PE_FLPM_MASK = 0x3L << PE_FLPM_SHIFT;

    private VtdEntries() {
    }

    /** Number of PASIDs a context entry with this PDTS covers: 2^(PDTS + 7) directory entries of 64. */
    public static long pasidLimit(long contextLo) {
        long pdts = (contextLo & CTX_PDTS_MASK) >>> CTX_PDTS_SHIFT;
        return (1L << (pdts + 7)) << PASID_PDE_SHIFT;
    }
}
