package dev.iommulab.hw.vtd;

/**
 * Layouts of the translation structures in memory (VT-d spec §9.1-§9.6): root entries (16 bytes),
 * legacy context entries (16 bytes), scalable context entries (32 bytes), PASID directory entries
 * (8 bytes) and PASID table entries (64 bytes). The driver writes these bits; the unit reads them.
 * Reserved-bit masks follow the VT-d spec tables as transcribed by QEMU ({@code VTD_*_RSVD*}) and
 * VirtualBox ({@code VTD_BF_*_RSVD_*}).
 */
public final class VtdEntries {

    public static final int ROOT_ENTRY_SIZE = 16;
    public static final int CONTEXT_ENTRY_SIZE = 16;
    public static final int SM_CONTEXT_ENTRY_SIZE = 32;
    public static final int PASID_DIR_ENTRY_SIZE = 8;
    public static final int PASID_ENTRY_SIZE = 64;
    /** PASID bits that index the PASID table; the rest index the directory. */
    public static final int PASID_PDE_SHIFT = 6;

    public static final long PRESENT = 1L;
    public static final long FPD = 1L << 1;
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;

    /** Root entry (both modes), each 64-bit half: bits 11:1 reserved. */
    public static final long ROOT_RSVD = 0xffeL;

    // legacy context entry, qword 0
    public static final int CTX_TT_SHIFT = 2;
    public static final long CTX_TT_MASK = 0x3L << CTX_TT_SHIFT;
    /** TT 00b: untranslated requests through the second-level table; ATS blocked. */
    public static final int TT_MULTI_LEVEL = 0;
    /** TT 01b: as 00b, and translation requests and translated requests allowed (device-TLB). */
    public static final int TT_DEVICE_TLB = 1;
    /** TT 10b: untranslated requests pass through; ATS blocked. */
    public static final int TT_PASS_THROUGH = 2;
    public static final long CTX_LO_RSVD = 0xff0L;
    // legacy context entry, qword 1
    public static final long CTX_AW_MASK = 0x7L;
    public static final int CTX_DID_SHIFT = 8;
    public static final long CTX_HI_RSVD = 0xffff_ffff_ff00_0080L;

    // scalable context entry, qword 0
    public static final long CTX_DTE = 1L << 2;
    public static final long CTX_PASIDE = 1L << 3;
    public static final long CTX_PRE = 1L << 4;
    public static final int CTX_PDTS_SHIFT = 9;
    public static final long CTX_PDTS_MASK = 0x7L << CTX_PDTS_SHIFT;
    public static final long SM_CTX_LO_RSVD = 0x1e0L;
    // scalable context entry, qword 1
    public static final long CTX_RID_PASID_MASK = 0xfffffL;
    public static final long SM_CTX_HI_RSVD = 0xffff_ffff_ffe0_0000L;

    /** PASID directory entry: bits 11:2 reserved. */
    public static final long PASID_DIR_RSVD = 0xffcL;

    // PASID entry, qword 0
    public static final int PE_AW_SHIFT = 2;
    public static final long PE_AW_MASK = 0x7L << PE_AW_SHIFT;
    /** Second-stage execute enable. */
    public static final long PE_SLEE = 1L << 5;
    public static final int PE_PGTT_SHIFT = 6;
    public static final long PE_PGTT_MASK = 0x7L << PE_PGTT_SHIFT;
    public static final int PGTT_FIRST_STAGE = 1;
    public static final int PGTT_SECOND_STAGE = 2;
    public static final int PGTT_NESTED = 3;
    public static final int PGTT_PASS_THROUGH = 4;
    /** Second-stage accessed/dirty enable (SSADE, formerly SLADE). */
    public static final long PE_SSADE = 1L << 9;
    public static final long PE_QW0_RSVD = 0xc00L;
    // PASID entry, qword 1
    public static final long PE_DID_MASK = 0xffffL;
    /** Page-walk snoop. */
    public static final long PE_PWSNP = 1L << 23;
    public static final long PE_QW1_RSVD = 0x7f_0000L;
    // PASID entry, qword 2
    public static final long PE_SRE = 1L;
    public static final long PE_ERE = 1L << 1;
    public static final int PE_FLPM_SHIFT = 2;
    public static final long PE_FLPM_MASK = 0x3L << PE_FLPM_SHIFT;
    public static final long PE_QW2_RSVD = 0xf00L;

    private VtdEntries() {
    }

    /** Number of PASIDs a context entry with this PDTS covers: 2^(PDTS + 7) directory entries of 64. */
    public static long pasidLimit(long contextLo) {
        long pdts = (contextLo & CTX_PDTS_MASK) >>> CTX_PDTS_SHIFT;
        return (1L << (pdts + 7)) << PASID_PDE_SHIFT;
    }
}
