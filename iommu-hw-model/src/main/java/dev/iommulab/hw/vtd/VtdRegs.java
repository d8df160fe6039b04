package dev.iommulab.hw.vtd;

/**
 * Register offsets and bits of a VT-d remapping unit (VT-d spec chapter 11; the same names as the
 * kernel's {@code DMAR_*_REG} and {@code DMA_*} constants in drivers/iommu/intel/iommu.h).
 */
public final class VtdRegs {

    public static final int VER = 0x00;
    public static final int CAP = 0x08;
    public static final int ECAP = 0x10;
    public static final int GCMD = 0x18;
    public static final int GSTS = 0x1c;
    public static final int RTADDR = 0x20;
    public static final int FSTS = 0x34;
    public static final int FECTL = 0x38;
    public static final int FEDATA = 0x3c;
    public static final int FEADDR = 0x40;
    public static final int IQH = 0x80;
    public static final int IQT = 0x88;
    public static final int IQA = 0x90;
    public static final int ICS = 0x9c;
    public static final int IECTL = 0xa0;
    /** DMAR_IQER_REG: invalidation queue error record (IQEI, ITESID, ICESID). */
    public static final int IQERCD = 0xb0;
    public static final int PQH = 0xc0;
    public static final int PQT = 0xc8;
    public static final int PQA = 0xd0;
    public static final int PRS = 0xdc;
    public static final int PECTL = 0xe0;
    /** Offset of the first fault recording register in this model (CAP.FRO = 0x40, 16-byte units). */
    public static final int FRCD_BASE = 0x400;
    /** Size of one fault recording register (PRIMARY_FAULT_REG_LEN). */
    public static final int FRCD_SIZE = 16;

    /** GCMD/GSTS: translation enable. */
    public static final int GCMD_TE = 1 << 31;
    /** GCMD: set root table pointer; GSTS: root table pointer status. */
    public static final int GCMD_SRTP = 1 << 30;
    /** GCMD/GSTS: queued invalidation enable. */
    public static final int GCMD_QIE = 1 << 26;

    /** RTADDR translation table mode field (TTM, bits 11:10). */
    public static final long RTADDR_TTM_MASK = 0x3L << 10;
    /** RTADDR translation table mode = scalable (TTM 01b). */
    public static final long RTADDR_SMT = 1L << 10;

    /** FSTS: primary fault overflow (RW1C). */
    public static final int FSTS_PFO = 1;
    /** FSTS: primary pending fault (read-only: the OR of the F bits). */
    public static final int FSTS_PPF = 1 << 1;
    /** FSTS: invalidation queue error. */
    public static final int FSTS_IQE = 1 << 4;
    /** FSTS: invalidation completion error. */
    public static final int FSTS_ICE = 1 << 5;
    /** FSTS: device-TLB invalidation time-out error. */
    public static final int FSTS_ITE = 1 << 6;
    /** FSTS: bit 7, once PRO; deprecated, written by Linux's dmar_fault() and ignored here. */
    public static final int FSTS_PRO = 1 << 7;
    /** FSTS: fault record index, bits 15:8. */
    public static final int FSTS_FRI_SHIFT = 8;

    /** FECTL/PECTL/IECTL: interrupt mask. */
    public static final int ECTL_IM = 1 << 31;
    /** FECTL/PECTL/IECTL: interrupt pending. */
    public static final int ECTL_IP = 1 << 30;
    /** PECTL: interrupt mask (same bit as {@link #ECTL_IM}). */
    public static final int PECTL_IM = ECTL_IM;

    /** PRS: pending page request. */
    public static final int PRS_PPR = 1;
    /** PRS: page request overflow. */
    public static final int PRS_PRO = 1 << 1;

    /** ICS: invalidation wait descriptor complete. */
    public static final int ICS_IWC = 1;

    /** IQA: 256-bit descriptor width. */
    public static final long IQA_DW_256 = 1L << 11;
    /** IQA: queue size, 2^QS pages (bits 2:0). */
    public static final long IQA_QS_MASK = 0x7;

    /** IQERCD.IQEI values (invalidation queue error information). */
    public static final int IQEI_TAIL_MISALIGNED = 6;
    public static final int IQEI_INVALID_TYPE = 3;
    public static final int IQEI_RESERVED_FIELD = 4;
    public static final int IQEI_FETCH_ERROR = 2;

    /** Size of one page request descriptor and of one 256-bit invalidation descriptor. */
    public static final int DESC_SIZE = 32;

    // ---- ECAP bits (VT-d spec §11.4.3) ----
    public static final long ECAP_C = 1L;
    public static final long ECAP_QI = 1L << 1;
    public static final long ECAP_DT = 1L << 2;
    public static final long ECAP_PT = 1L << 6;
    public static final long ECAP_NEST = 1L << 26;
    public static final long ECAP_PRS = 1L << 29;
    public static final long ECAP_ERS = 1L << 30;
    public static final long ECAP_SRS = 1L << 31;
    public static final int ECAP_PSS_SHIFT = 35;
    public static final long ECAP_PASID = 1L << 40;
    public static final long ECAP_PDS = 1L << 42;
    public static final long ECAP_SMTS = 1L << 43;
    public static final long ECAP_SLADS = 1L << 45;
    public static final long ECAP_SLTS = 1L << 46;
    public static final long ECAP_FLTS = 1L << 47;
    public static final long ECAP_SMPWCS = 1L << 48;
    public static final long ECAP_RPS = 1L << 49;

    private VtdRegs() {
    }

    /** CAP.NFR + 1: the number of fault recording registers (the kernel's cap_num_fault_regs()). */
    public static int capNumFaultRegs(long cap) {
        return (int) ((cap >>> 40) & 0xff) + 1;
    }

    /** CAP.FRO · 16: offset of the first fault recording register (cap_fault_reg_offset()). */
    public static int capFaultRegOffset(long cap) {
        return (int) ((cap >>> 24) & 0x3ff) * 16;
    }

    /** FSTS.FRI (dma_fsts_fault_record_index()). */
    public static int fstsFaultRecordIndex(long fsts) {
        return (int) ((fsts >>> FSTS_FRI_SHIFT) & 0xff);
    }
}
