package dev.iommulab.hw.vtd;

/**
 * Register offsets and bits of a VT-d remapping unit (VT-d spec chapter 11; the same names as the
 * kernel's {@code DMAR_*_REG} constants in drivers/iommu/intel/iommu.h).
 */
public final class VtdRegs {

    public static final int VER = 0x00;
    public static final int CAP = 0x08;
    public static final int ECAP = 0x10;
    public static final int GCMD = 0x18;
    public static final int GSTS = 0x1c;
    public static final int RTADDR = 0x20;
    public static final int FSTS = 0x34;
    public static final int IQH = 0x80;
    public static final int IQT = 0x88;
    public static final int IQA = 0x90;
    public static final int PQH = 0xc0;
    public static final int PQT = 0xc8;
    public static final int PQA = 0xd0;
    public static final int PRS = 0xdc;
    public static final int PECTL = 0xe0;

    /** GCMD/GSTS: translation enable. */
    public static final int GCMD_TE = 1 << 31;
    /** GCMD: set root table pointer; GSTS: root table pointer status. */
    public static final int GCMD_SRTP = 1 << 30;
    /** GCMD/GSTS: queued invalidation enable. */
    public static final int GCMD_QIE = 1 << 26;

    /** RTADDR translation table mode = scalable (TTM 01b, bits 11:10). */
    public static final long RTADDR_SMT = 1L << 10;

    /** FSTS: invalidation queue error. */
    public static final int FSTS_IQE = 1 << 4;

    /** PRS: pending page request. */
    public static final int PRS_PPR = 1;
    /** PRS: page request overflow. */
    public static final int PRS_PRO = 1 << 1;

    /** PECTL: interrupt mask. */
    public static final int PECTL_IM = 1 << 31;

    /** IQA: 256-bit descriptor width. */
    public static final long IQA_DW_256 = 1L << 11;

    /** Size of one page request descriptor and of one 256-bit invalidation descriptor. */
    public static final int DESC_SIZE = 32;

    private VtdRegs() {
    }
}
