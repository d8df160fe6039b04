package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.MemoryRing;

/**
 * Memory-mapped register offsets and fields of a RISC-V IOMMU (riscv-iommu, chapter "Memory-mapped
 * register interface", table "IOMMU Memory-mapped register layout"; reference/iommu-hardware.md §2.4).
 * The same names as the Linux driver's {@code RISCV_IOMMU_REG_*} constants in
 * drivers/iommu/riscv/iommu-bits.h, in Java case.
 *
 * <p>Registers are 4 or 8 bytes wide; {@link RiscvIommu#readReg}/{@link RiscvIommu#writeReg} access the
 * register that starts at the offset with its own width.
 */
public final class RiscvRegs {

    // ---- offsets ----
    public static final int CAPABILITIES = 0;
    public static final int FCTL = 8;
    public static final int DDTP = 16;
    public static final int CQB = 24;
    public static final int CQH = 32;
    public static final int CQT = 36;
    public static final int FQB = 40;
    public static final int FQH = 48;
    public static final int FQT = 52;
    public static final int PQB = 56;
    public static final int PQH = 64;
    public static final int PQT = 68;
    public static final int CQCSR = 72;
    public static final int FQCSR = 76;
    public static final int PQCSR = 80;
    public static final int IPSR = 84;
    public static final int ICVEC = 760;

    // ---- capabilities ----
    /** Version 1.0 in bits 7:0. */
    public static final long CAP_VERSION_1_0 = 0x10;
    public static final long CAP_SV32 = 1L << 8;
    public static final long CAP_SV39 = 1L << 9;
    public static final long CAP_SV48 = 1L << 10;
    public static final long CAP_SV57 = 1L << 11;
    public static final long CAP_SVPBMT = 1L << 15;
    public static final long CAP_SV32X4 = 1L << 16;
    public static final long CAP_SV39X4 = 1L << 17;
    public static final long CAP_SV48X4 = 1L << 18;
    public static final long CAP_SV57X4 = 1L << 19;
    public static final long CAP_AMO_MRIF = 1L << 21;
    public static final long CAP_MSI_FLAT = 1L << 22;
    public static final long CAP_MSI_MRIF = 1L << 23;
    public static final long CAP_AMO_HWAD = 1L << 24;
    public static final long CAP_ATS = 1L << 25;
    public static final long CAP_T2GPA = 1L << 26;
    public static final long CAP_END = 1L << 27;
    /** IGS (bits 29:28) = BOTH: MSI and wired interrupts, chosen by {@code fctl.WSI}. */
    public static final long CAP_IGS_BOTH = 2L << 28;
    public static final long CAP_IGS_MASK = 3L << 28;
    public static final long CAP_HPM = 1L << 30;
    public static final long CAP_DBG = 1L << 31;
    public static final int CAP_PAS_SHIFT = 32;
    public static final long CAP_PD8 = 1L << 38;
    public static final long CAP_PD17 = 1L << 39;
    public static final long CAP_PD20 = 1L << 40;
    public static final long CAP_QOSID = 1L << 41;

    // ---- fctl ----
    public static final int FCTL_BE = 1;
    public static final int FCTL_WSI = 1 << 1;
    public static final int FCTL_GXL = 1 << 2;

    // ---- ddtp ----
    public static final long DDTP_MODE_MASK = 0xf;
    public static final int DDTP_MODE_OFF = 0;
    public static final int DDTP_MODE_BARE = 1;
    public static final int DDTP_MODE_1LVL = 2;
    public static final int DDTP_MODE_2LVL = 3;
    public static final int DDTP_MODE_3LVL = 4;
    public static final long DDTP_BUSY = 1L << 4;
    /** PPN field of ddtp, cqb, fqb, pqb and of DDT/PDT non-leaf entries: bits 53:10. */
    public static final long PPN_FIELD = ((1L << 44) - 1) << 10;

    // ---- cqb / fqb / pqb ----
    /** LOG2SZ-1 field, bits 4:0: the queue holds 2^(field + 1) entries. */
    public static final long QB_LOG2SZ_MASK = 0x1f;

    // ---- cqcsr ----
    public static final int CQCSR_CQEN = 1;
    public static final int CQCSR_CIE = 1 << 1;
    public static final int CQCSR_CQMF = 1 << 8;
    public static final int CQCSR_CMD_TO = 1 << 9;
    public static final int CQCSR_CMD_ILL = 1 << 10;
    public static final int CQCSR_FENCE_W_IP = 1 << 11;
    public static final int CQCSR_CQON = 1 << 16;
    public static final int CQCSR_BUSY = 1 << 17;

    // ---- fqcsr ----
    public static final int FQCSR_FQEN = 1;
    public static final int FQCSR_FIE = 1 << 1;
    public static final int FQCSR_FQMF = 1 << 8;
    public static final int FQCSR_FQOF = 1 << 9;
    public static final int FQCSR_FQON = 1 << 16;
    public static final int FQCSR_BUSY = 1 << 17;

    // ---- pqcsr ----
    public static final int PQCSR_PQEN = 1;
    public static final int PQCSR_PIE = 1 << 1;
    public static final int PQCSR_PQMF = 1 << 8;
    public static final int PQCSR_PQOF = 1 << 9;
    public static final int PQCSR_PQON = 1 << 16;
    public static final int PQCSR_BUSY = 1 << 17;

    // ---- ipsr ----
    public static final int IPSR_CIP = 1;
    public static final int IPSR_FIP = 1 << 1;
    public static final int IPSR_PMIP = 1 << 2;
    public static final int IPSR_PIP = 1 << 3;

    /** Size of a command and of a page-request record. */
    public static final int CQ_ENTRY_SIZE = 16;
    public static final int PQ_ENTRY_SIZE = 16;
    /** Size of a fault record. */
    public static final int FQ_ENTRY_SIZE = 32;

    private RiscvRegs() {
    }

    /** A {@code ddtp} value: {@code mode} and the root DDT page at {@code rootPa}. */
    public static long ddtp(int mode, long rootPa) {
        return ((rootPa >>> 12) << 10) & PPN_FIELD | (mode & DDTP_MODE_MASK);
    }

    /**
     * A {@code cqb}/{@code fqb}/{@code pqb} value for a queue of {@code entries} (a power of two, at
     * least 2) at {@code basePa}.
     *
     * @throws IllegalArgumentException if {@code entries} is not a power of two in [2, 2^32]
     */
    public static long queueBase(long basePa, long entries) {
        if (entries < 2 || Long.bitCount(entries) != 1 || entries > 1L << 32) {
            throw new IllegalArgumentException("queue entries must be a power of two in [2, 2^32]: " + entries);
        }
        int log2 = Long.numberOfTrailingZeros(entries);
        return ((basePa >>> 12) << 10) & PPN_FIELD | (log2 - 1);
    }

    /** The physical address of the page named by a PPN field at bits 53:10. */
    public static long ppnAddress(long value) {
        return ((value & PPN_FIELD) >>> 10) << 12;
    }

    /**
     * Software wrote {@code value} to a queue base register ({@code cqb/fqb/pqb}): keeps its WARL fields (PPN and
     * LOG2SZ-1, a LOG2SZ-1 above 29 clamped), places {@code ring} there with 2^(LOG2SZ-1 + 1) entries and
     * returns the register's new value. Head and tail are left as they are.
     */
    static long writeQueueBase(MemoryRing ring, long value) {
        long log2 = Math.min(value & QB_LOG2SZ_MASK, 29);
        long qb = value & PPN_FIELD | log2;
        ring.setBase(ppnAddress(qb), (int) log2 + 1);
        return qb;
    }
}
