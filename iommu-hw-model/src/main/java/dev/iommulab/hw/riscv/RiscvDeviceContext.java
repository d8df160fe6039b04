package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A base-format (32-byte) device context, the leaf of the device directory table: four little-endian
 * doublewords {@code tc}, {@code iohgatp}, {@code ta}, {@code fsc} (riscv-iommu "Data Structures",
 * "Leaf DDT entry" and "Device-context fields"; reference/iommu-hardware.md §2.4.1). The extended
 * 64-byte format exists only with {@code capabilities.MSI_FLAT}, which this model does not offer.
 *
 * <p>Software builds values with the constants and {@code encode} helpers and writes them with
 * {@link #writeTo}; the model reads them with {@link #readFrom}. Nothing here validates: bad contents
 * are the model's to report (cause 259).
 */
public record RiscvDeviceContext(long tc, long iohgatp, long ta, long fsc) {

    /** Size of a base-format device context. */
    public static final int SIZE = 32;

    // ---- tc ----
    public static final long TC_V = 1L;
    public static final long TC_EN_ATS = 1L << 1;
    public static final long TC_EN_PRI = 1L << 2;
    public static final long TC_T2GPA = 1L << 3;
    public static final long TC_DTF = 1L << 4;
    public static final long TC_PDTV = 1L << 5;
    public static final long TC_PRPR = 1L << 6;
    public static final long TC_GADE = 1L << 7;
    public static final long TC_SADE = 1L << 8;
    public static final long TC_DPE = 1L << 9;
    public static final long TC_SBE = 1L << 10;
    public static final long TC_SXL = 1L << 11;
    /** Bits 23:12 and 63:32 are reserved; 31:24 are for custom use (ignored). */
    public static final long TC_RESERVED = 0xfffL << 12 | 0xffff_ffffL << 32;

    // ---- iohgatp / iosatp / pdtp / PC.fsc share this layout: PPN 43:0, MODE 63:60 ----
    public static final long PPN_MASK = (1L << 44) - 1;
    public static final int MODE_SHIFT = 60;
    public static final int GSCID_SHIFT = 44;
    public static final long GSCID_MASK = 0xffff;
    /** iosatp, pdtp and PC.fsc: bits 59:44 are reserved. */
    public static final long FSC_RESERVED = 0xffffL << 44;

    public static final int MODE_BARE = 0;
    /** pdtp.MODE encodings. */
    public static final int PDTP_PD8 = 1;
    public static final int PDTP_PD17 = 2;
    public static final int PDTP_PD20 = 3;

    // ---- ta ----
    public static final int PSCID_SHIFT = 12;
    public static final long PSCID_MASK = 0xfffff;
    /** Bits 11:0, 39:32 reserved; 63:40 hold RCID/MCID, reserved without capabilities.QOSID. */
    public static final long TA_RESERVED = 0xfffL | 0xffL << 32 | 0xff_ffffL << 40;

    /** Non-leaf DDT (and PDT) entry: V, PPN 53:10; bits 9:1 and 63:54 reserved. */
    public static final long NON_LEAF_V = 1L;
    public static final long NON_LEAF_RESERVED = 0x3feL | 0x3ffL << 54;

    /** {@code iohgatp} / {@code iosatp} / {@code pdtp} / {@code PC.fsc}: MODE and a root at {@code pa}. */
    public static long encodeAtp(int mode, long pa) {
        return (long) mode << MODE_SHIFT | (pa >>> 12) & PPN_MASK;
    }

    /** {@code iohgatp} with a GSCID. */
    public static long encodeIohgatp(int mode, int gscid, long rootPa) {
        return encodeAtp(mode, rootPa) | (gscid & GSCID_MASK) << GSCID_SHIFT;
    }

    /** {@code DC.ta} (or {@code PC.ta} without its flags) holding {@code pscid}. */
    public static long encodeTa(int pscid) {
        return (pscid & PSCID_MASK) << PSCID_SHIFT;
    }

    /** A non-leaf DDT/PDT entry pointing to the table at {@code pa}. */
    public static long nonLeaf(long pa) {
        return ((pa >>> 12) << 10) & RiscvRegs.PPN_FIELD | NON_LEAF_V;
    }

    public static RiscvDeviceContext readFrom(PhysicalMemory memory, long pa) {
        return new RiscvDeviceContext(memory.readLong(pa), memory.readLong(pa + 8), memory.readLong(pa + 16),
                memory.readLong(pa + 24));
    }

    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, tc);
        memory.writeLong(pa + 8, iohgatp);
        memory.writeLong(pa + 16, ta);
        memory.writeLong(pa + 24, fsc);
    }

    public boolean has(long tcBit) {
        return (tc & tcBit) != 0;
    }

    public int iohgatpMode() {
        return (int) (iohgatp >>> MODE_SHIFT);
    }

    public int gscid() {
        return (int) (iohgatp >>> GSCID_SHIFT & GSCID_MASK);
    }

    /** The G-stage root (an SPA). */
    public long iohgatpRoot() {
        return (iohgatp & PPN_MASK) << 12;
    }

    public int pscid() {
        return (int) (ta >>> PSCID_SHIFT & PSCID_MASK);
    }

    /** {@code iosatp.MODE} or {@code pdtp.MODE}, depending on PDTV. */
    public int fscMode() {
        return (int) (fsc >>> MODE_SHIFT);
    }

    /** The first-stage root or the PDT root: a GPA when the G-stage is not Bare. */
    public long fscRoot() {
        return (fsc & PPN_MASK) << 12;
    }

    /** This context with {@code tcBits} added. */
    public RiscvDeviceContext with(long tcBits) {
        return new RiscvDeviceContext(tc | tcBits, iohgatp, ta, fsc);
    }

    /** This context with {@code tcBits} removed. */
    public RiscvDeviceContext without(long tcBits) {
        return new RiscvDeviceContext(tc & ~tcBits, iohgatp, ta, fsc);
    }
}
