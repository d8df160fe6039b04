package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A 16-byte command-queue entry as two doublewords (riscv-iommu "Command-Queue (CQ)": {@code opcode} 6:0,
 * {@code func3} 9:7, operands; reference/iommu-hardware.md §2.4.5). The factories encode the commands a
 * driver queues; the accessors decode fields for the model. Counterpart of the Linux driver's
 * {@code riscv_iommu_cmd_*} helpers in drivers/iommu/riscv/iommu-bits.h.
 */
public record RiscvCommand(long qw0, long qw1) {

    public static final int OPCODE_IOTINVAL = 1;
    public static final int OPCODE_IOFENCE = 2;
    public static final int OPCODE_IODIR = 3;
    public static final int OPCODE_ATS = 4;
    public static final int FUNC3_VMA = 0;
    public static final int FUNC3_GVMA = 1;
    public static final int FUNC3_IOFENCE_C = 0;
    public static final int FUNC3_INVAL_DDT = 0;
    public static final int FUNC3_INVAL_PDT = 1;
    public static final int FUNC3_ATS_INVAL = 0;
    public static final int FUNC3_ATS_PRGR = 1;

    private static long head(int opcode, int func3) {
        return opcode | (long) func3 << 7;
    }

    private static long bit(boolean set, int position) {
        return set ? 1L << position : 0;
    }

    /** {@code IOTINVAL.VMA}: first-stage (and combined) entries, by GSCID, PSCID and IOVA as flagged. */
    public static RiscvCommand iotinvalVma(boolean gv, int gscid, boolean pscv, int pscid, boolean av, long iova) {
        return iotinval(FUNC3_VMA, gv, gscid, pscv, pscid, av, iova);
    }

    /** {@code IOTINVAL.GVMA}: G-stage entries, by GSCID and GPA as flagged. */
    public static RiscvCommand iotinvalGvma(boolean gv, int gscid, boolean av, long gpa) {
        return iotinval(FUNC3_GVMA, gv, gscid, false, 0, av, gpa);
    }

    private static RiscvCommand iotinval(int func3, boolean gv, int gscid, boolean pscv, int pscid, boolean av,
                                         long addr) {
        long qw0 = head(OPCODE_IOTINVAL, func3) | bit(av, 10) | (pscid & 0xfffffL) << 12 | bit(pscv, 32)
                | bit(gv, 33) | (gscid & 0xffffL) << 44;
        return new RiscvCommand(qw0, av ? (addr >>> 12) << 10 & ~(3L << 62) : 0);
    }

    /** {@code IODIR.INVAL_DDT}: the cached device context of {@code did} (all with {@code dv} false). */
    public static RiscvCommand iodirInvalDdt(boolean dv, int did) {
        return new RiscvCommand(head(OPCODE_IODIR, FUNC3_INVAL_DDT) | bit(dv, 33) | (dv ? (did & 0xffffffL) << 40 : 0),
                0);
    }

    /** {@code IODIR.INVAL_PDT}: the cached process context of ({@code did}, {@code pid}). */
    public static RiscvCommand iodirInvalPdt(int did, int pid) {
        return new RiscvCommand(head(OPCODE_IODIR, FUNC3_INVAL_PDT) | (pid & 0xfffffL) << 12 | 1L << 33
                | (did & 0xffffffL) << 40, 0);
    }

    /**
     * {@code ATS.INVAL}: an Invalidate Request to {@code rid} for the naturally aligned range of
     * {@code size} bytes (a power of two, at least 4 KiB) containing {@code addr}; the size is encoded with
     * the PCIe S bit and trailing ones in the address.
     */
    public static RiscvCommand atsInval(int rid, boolean pv, int pid, boolean global, long addr, long size) {
        if (size < 4096 || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("size must be a power of two of at least 4096: " + size);
        }
        long payload = (addr & ~(size - 1)) | bit(global, 0);
        if (size > 4096) {
            payload |= 1L << 11 | ((size >>> 1) - 1) & ~0xfffL;
        }
        return new RiscvCommand(ats(FUNC3_ATS_INVAL, rid, pv, pid), payload);
    }

    /**
     * The range an {@code ATS.INVAL} payload names (G bit 0, S bit 11, untranslated address 63:12 with the PCIe
     * size encoding): {@code {addr, size}}, the whole address space when the trailing ones reach bit 63.
     */
    long[] atsInvalRange() {
        long addr = qw1 & ~0xfffL;
        long size = 4096;
        if ((qw1 & 1L << 11) != 0) {
            int ones = Long.numberOfTrailingZeros(~(qw1 >>> 12));
            if (12 + ones + 1 >= 63) {
                addr = 0;
                size = Long.MAX_VALUE & ~0xfffL;
            } else {
                size = 1L << (12 + ones + 1);
                addr &= -size;
            }
        }
        return new long[] {addr, size};
    }

    /** {@code ATS.INVAL}: the G bit of the payload (every PASID). */
    boolean atsInvalGlobal() {
        return (qw1 & 1) != 0;
    }

    /** {@code ATS.PRGR}: a PRG Response with {@code code} (4-bit PCIe code) for {@code prgi} to {@code rid}. */
    public static RiscvCommand atsPrgr(int rid, boolean pv, int pid, int prgi, int code) {
        return new RiscvCommand(ats(FUNC3_ATS_PRGR, rid, pv, pid), (prgi & 0x1ffL) << 32 | (code & 0xfL) << 44);
    }

    private static long ats(int func3, int rid, boolean pv, int pid) {
        return head(OPCODE_ATS, func3) | (pv ? (pid & 0xfffffL) << 12 : 0) | bit(pv, 32) | (rid & 0xffffL) << 40;
    }

    /** {@code IOFENCE.C}; with {@code av} the IOMMU stores {@code data} at {@code addr} (4-byte aligned). */
    public static RiscvCommand iofenceC(boolean av, boolean wsi, boolean pr, boolean pw, long addr, int data) {
        long qw0 = head(OPCODE_IOFENCE, FUNC3_IOFENCE_C) | bit(av, 10) | bit(wsi, 11) | bit(pr, 12) | bit(pw, 13)
                | (data & 0xffffffffL) << 32;
        return new RiscvCommand(qw0, av ? addr >>> 2 & ~(3L << 62) : 0);
    }

    public static RiscvCommand readFrom(PhysicalMemory memory, long pa) {
        return new RiscvCommand(memory.readLong(pa), memory.readLong(pa + 8));
    }

    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, qw0);
        memory.writeLong(pa + 8, qw1);
    }

    public int opcode() {
        return (int) (qw0 & 0x7f);
    }

    public int func3() {
        return (int) (qw0 >>> 7 & 7);
    }

    boolean flag(int position) {
        return (qw0 >>> position & 1) != 0;
    }

    /** Bits {@code hi:lo} of doubleword 0. */
    long field(int hi, int lo) {
        return qw0 << (63 - hi) >>> (63 - hi + lo);
    }
}
