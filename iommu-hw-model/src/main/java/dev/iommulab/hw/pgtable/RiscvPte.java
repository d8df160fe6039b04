package dev.iommulab.hw.pgtable;

/**
 * Bits of a RISC-V page-table entry for Sv39, Sv48, Sv57 and their x4 G-stage forms (RISC-V
 * Privileged Architecture, "Sv39: Page-Based 39-bit Virtual-Memory System", Figure "Sv39 page table
 * entry"; the same 8-byte layout serves every mode of {@link RiscvPagingMode}). The RISC-V IOMMU
 * walks these bytes for first-stage and G-stage translation (reference/iommu-hardware.md §2.4.1).
 *
 * <p>Layout: V, R, W, X, U, G, A, D in bits 7:0, RSW (software) in 9:8, PPN in 53:10, and bits 63:54
 * reserved. The Svnapot (N, bit 63) and Svpbmt (PBMT, bits 62:61) extensions are not modelled, so
 * those bits are reserved like 60:54 and a set bit makes the walk fault.
 */
public final class RiscvPte {

    /** Valid. */
    public static final long V = 1L;
    /** Readable. */
    public static final long R = 1L << 1;
    /** Writable; reserved without R. */
    public static final long W = 1L << 2;
    /** Executable. */
    public static final long X = 1L << 3;
    /** Accessible to user mode (G-stage: must be set in every leaf). */
    public static final long U = 1L << 4;
    /** Global mapping; in a non-leaf entry it makes every mapping below global. */
    public static final long G = 1L << 5;
    /** Accessed. Reserved in a non-leaf entry. */
    public static final long A = 1L << 6;
    /** Dirty. Reserved in a non-leaf entry. */
    public static final long D = 1L << 7;
    /** Reserved for supervisor software; ignored by the walk. */
    public static final long RSW = 0x300L;
    /** Position of the PPN field. */
    public static final int PPN_SHIFT = 10;
    /** The PPN field, bits 53:10 (a 56-bit physical address). */
    public static final long PPN_MASK = ((1L << 44) - 1) << PPN_SHIFT;
    /** Bits 63:54: reserved (N and PBMT without Svnapot / Svpbmt). */
    public static final long RESERVED_HIGH = ~0L << 54;
    /** Bits that are reserved in a non-leaf entry besides {@link #RESERVED_HIGH}: D, A and U. */
    public static final long NON_LEAF_RESERVED = D | A | U;
    /** Largest physical address a PTE can hold, exclusive: 2^56. */
    public static final long PHYS_ADDR_LIMIT = 1L << 56;

    private RiscvPte() {
    }

    public static boolean isValid(long pte) {
        return (pte & V) != 0;
    }

    /** Whether a valid entry is a leaf: any of R or X set (W alone is reserved, not a leaf). */
    public static boolean isLeaf(long pte) {
        return (pte & (R | X)) != 0;
    }

    /** The reserved R = 0, W = 1 encodings (xwr = 010, which Zicfiss keeps reserved for I/O, and 110). */
    public static boolean isWriteWithoutRead(long pte) {
        return (pte & (R | W)) == W;
    }

    /** The PPN field. */
    public static long ppn(long pte) {
        return (pte & PPN_MASK) >>> PPN_SHIFT;
    }

    /** The physical address the entry points to: PPN × 4096. */
    public static long address(long pte) {
        return ppn(pte) << 12;
    }

    /** An entry with PPN = {@code pa} / 4096 and {@code flags}; {@code pa}'s low 12 bits are dropped. */
    public static long encode(long pa, long flags) {
        return ((pa >>> 12) << PPN_SHIFT) & PPN_MASK | flags;
    }
}
