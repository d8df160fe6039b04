package dev.iommulab.hw.riscv;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A 16-byte process context, the leaf of the process directory table: {@code ta} and {@code fsc}
 * (riscv-iommu "Data Structures", "Leaf PDT entry" and "Process-context fields"; reference/iommu-hardware.md
 * §2.4.1). {@code fsc} has the layout of {@code iosatp} ({@link RiscvDeviceContext#encodeAtp}).
 */
public record RiscvProcessContext(long ta, long fsc) {

    public static final int SIZE = 16;

    public static final long TA_V = 1L;
    /** Transactions requesting supervisor privilege are allowed. */
    public static final long TA_ENS = 1L << 1;
    /** Supervisor transactions may access U = 1 pages (never for execute). */
    public static final long TA_SUM = 1L << 2;
    /** Bits 11:3 and 63:32 are reserved. */
    public static final long TA_RESERVED = 0x1ffL << 3 | 0xffff_ffffL << 32;

    /** A valid process context for {@code pscid} with {@code flags} (ENS, SUM) and first stage {@code fsc}. */
    public static RiscvProcessContext of(int pscid, long flags, long fsc) {
        return new RiscvProcessContext(TA_V | flags | RiscvDeviceContext.encodeTa(pscid), fsc);
    }

    public static RiscvProcessContext readFrom(PhysicalMemory memory, long pa) {
        return new RiscvProcessContext(memory.readLong(pa), memory.readLong(pa + 8));
    }

    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, ta);
        memory.writeLong(pa + 8, fsc);
    }

    public boolean has(long taBit) {
        return (ta & taBit) != 0;
    }

    public int pscid() {
        return (int) (ta >>> RiscvDeviceContext.PSCID_SHIFT & RiscvDeviceContext.PSCID_MASK);
    }

    public int fscMode() {
        return (int) (fsc >>> RiscvDeviceContext.MODE_SHIFT);
    }

    /** The first-stage root: a GPA when the G-stage is not Bare. */
    public long fscRoot() {
        return (fsc & RiscvDeviceContext.PPN_MASK) << 12;
    }
}
