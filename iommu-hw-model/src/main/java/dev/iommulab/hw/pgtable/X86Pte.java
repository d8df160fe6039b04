package dev.iommulab.hw.pgtable;

/**
 * Bits of an x86-64 paging-structure entry (Intel SDM Vol. 3A §4.5, Table 4-19 and following), as
 * used by the CPU and by VT-d first-stage translation.
 */
public final class X86Pte {

    public static final long P = 1L;
    public static final long RW = 1L << 1;
    public static final long US = 1L << 2;
    public static final long PWT = 1L << 3;
    public static final long PCD = 1L << 4;
    public static final long A = 1L << 5;
    public static final long D = 1L << 6;
    /** Page size: set in a PDPTE (1 GiB) or PDE (2 MiB) that maps a page directly. */
    public static final long PS = 1L << 7;
    public static final long G = 1L << 8;
    public static final long XD = 1L << 63;
    /** Physical address bits 51:12. */
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;

    private X86Pte() {
    }

    public static boolean present(long pte) {
        return (pte & P) != 0;
    }

    public static long address(long pte) {
        return pte & ADDR_MASK;
    }

    /** Index of {@code va} in the table at {@code level} (1 = PT, 4 = PML4, 5 = PML5). */
    public static int index(long va, int level) {
        return (int) ((va >>> (12 + 9 * (level - 1))) & 0x1ff);
    }

    /** Size of the region one entry at {@code level} covers. */
    public static long entrySpan(int level) {
        return 1L << (12 + 9 * (level - 1));
    }
}
