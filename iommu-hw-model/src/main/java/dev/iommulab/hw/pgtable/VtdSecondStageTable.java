package dev.iommulab.hw.pgtable;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Arrays;
import java.util.function.LongSupplier;

/**
 * The Intel VT-d second-stage paging format (VT-d spec §9.8, the kernel's {@code DMA_PTE_*} bits in
 * drivers/iommu/intel/iommu.h; legacy "second-level" tables have the same layout), read and written in
 * {@link PhysicalMemory}: 3, 4 or 5 levels of 512 eight-byte entries, 4 KiB pages and 2 MiB / 1 GiB
 * pages through PS.
 *
 * <p>An entry has no present bit: R = W = 0 means not present. Rights are the AND of R, W and X over
 * all levels. X only means something when the PASID entry sets SLEE; the caller decides. A and D are
 * set by {@link #setAccessedDirty} only when the PASID entry enables second-stage A/D (SSADE); without
 * it the hardware ignores them.
 *
 * <p>Reserved bits (VT-d spec §9.8, QEMU {@code VTD_SPTE_*_RSVD_MASK}): bit 11 in every entry, bit 62
 * (TM, not supported here), PS in a level-4 or level-5 entry, the address bits below the page size
 * of a 2 MiB (20:12) or 1 GiB (29:12) leaf. Address bits from the host address width up to bit 51
 * are reported apart ({@link Cause#ADDRESS_BEYOND_HAW}) because scalable mode has a fault reason of
 * its own for them (0x84); bits 61:52 and 63 are ignored.
 */
public final class VtdSecondStageTable {

    public static final long R = 1L;
    public static final long W = 1L << 1;
    public static final long X = 1L << 2;
    /** Page size: a level-2 (2 MiB) or level-3 (1 GiB) entry maps a page. */
    public static final long PS = 1L << 7;
    public static final long A = 1L << 8;
    public static final long D = 1L << 9;
    /** Bit 11: reserved in this model (SNP is not supported). */
    public static final long RSVD_11 = 1L << 11;
    /** Bit 62: TM, reserved without device-TLB transient-mapping support. */
    public static final long RSVD_TM = 1L << 62;
    /** Address bits 51:12. */
    public static final long ADDR_MASK = 0x000f_ffff_ffff_f000L;

    /** A present leaf with the rights of the whole walk. */
    public record Leaf(long pa, long pageSize, int level, boolean read, boolean write, boolean exec,
                       boolean accessed, boolean dirty, long[] entryAddrs) {

        /** Physical address of the leaf entry. */
        public long pteAddr() {
            return entryAddrs[entryAddrs.length - 1];
        }
    }

    /** The walk stopped at {@code level}; {@code entryAddr} is -1 when no entry was read. */
    public record Fault(int level, Cause cause, long entryAddr) {
    }

    /** Why a walk stopped. */
    public enum Cause {
        /** The input address is above 2^(12 + 9 * levels) - 1, the table's address width. */
        INPUT_BEYOND_WIDTH,
        /** A table lies outside physical memory. */
        FETCH_ERROR,
        /** An entry has R = W = 0. */
        NOT_PRESENT,
        /** An entry sets a reserved bit. */
        RESERVED_BITS,
        /** An entry's address field reaches above the host address width. */
        ADDRESS_BEYOND_HAW
    }

    /** The outcome of a walk: exactly one of leaf and fault is set. */
    public record Walk(Leaf leaf, Fault fault) {
        public boolean ok() {
            return leaf != null;
        }
    }

    private final PhysicalMemory memory;
    private final int levels;
    private final long beyondHaw;

    /**
     * @param levels  3, 4 or 5 (AW 001b, 010b, 011b)
     * @param hawBits host address width: address bits from here to 51 are beyond it
     */
    public VtdSecondStageTable(PhysicalMemory memory, int levels, int hawBits) {
        if (levels < 3 || levels > 5) {
            throw new IllegalArgumentException("second-stage tables have 3, 4 or 5 levels, not " + levels);
        }
        if (hawBits < 32 || hawBits > 52) {
            throw new IllegalArgumentException("host address width must be 32..52 bits: " + hawBits);
        }
        this.memory = memory;
        this.levels = levels;
        this.beyondHaw = ADDR_MASK & ~((1L << hawBits) - 1);
    }

    /** Levels for the AW field of a context or PASID entry (1 → 3, 2 → 4, 3 → 5), or -1 if reserved. */
    public static int levelsForAw(int aw) {
        return aw >= 1 && aw <= 3 ? aw + 2 : -1;
    }

    public int levels() {
        return levels;
    }

    /** Input address width in bits: 39, 48 or 57. */
    public int inputBits() {
        return 12 + 9 * levels;
    }

    /** Walks the table rooted at {@code root} for {@code iova}; reads memory only. */
    public Walk walk(long root, long iova) {
        if (inputBits() < 64 && (iova >>> inputBits()) != 0) {
            return fault(levels, Cause.INPUT_BEYOND_WIDTH, -1);
        }
        long table = root & ADDR_MASK;
        long[] path = new long[levels];
        boolean read = true;
        boolean write = true;
        boolean exec = true;
        for (int level = levels; level >= 1; level--) {
            long entryAddr = table + 8L * X86Pte.index(iova, level);
            if (!memory.contains(entryAddr, 8)) {
                return fault(level, Cause.FETCH_ERROR, entryAddr);
            }
            long e = memory.readLong(entryAddr);
            if ((e & (R | W)) == 0) {
                return fault(level, Cause.NOT_PRESENT, entryAddr);
            }
            Cause bad = check(e, level);
            if (bad != null) {
                return fault(level, bad, entryAddr);
            }
            path[levels - level] = entryAddr;
            read &= (e & R) != 0;
            write &= (e & W) != 0;
            exec &= (e & X) != 0;
            if (level == 1 || (e & PS) != 0) {
                long span = X86Pte.entrySpan(level);
                long pa = (e & ADDR_MASK & ~(span - 1)) | (iova & (span - 1));
                long[] used = Arrays.copyOf(path, levels - level + 1);
                return new Walk(new Leaf(pa, span, level, read, write, exec, (e & A) != 0, (e & D) != 0, used),
                        null);
            }
            table = e & ADDR_MASK;
        }
        throw new AssertionError("unreachable: level 1 is always a leaf");
    }

    private static Walk fault(int level, Cause cause, long entryAddr) {
        return new Walk(null, new Fault(level, cause, entryAddr));
    }

    private Cause check(long e, int level) {
        boolean ps = (e & PS) != 0;
        long reserved = RSVD_11 | RSVD_TM;
        if (ps && level >= 4) {
            return Cause.RESERVED_BITS;
        }
        if (ps && level == 3) {
            reserved |= 0x3fff_f000L;
        } else if (ps && level == 2) {
            reserved |= 0x1f_f000L;
        }
        if ((e & reserved) != 0) {
            return Cause.RESERVED_BITS;
        }
        return (e & beyondHaw) != 0 ? Cause.ADDRESS_BEYOND_HAW : null;
    }

    /**
     * Sets A in every entry of the walk and D in the leaf when {@code dirty}, as the hardware does when
     * SSADE is set (atomically, entry by entry).
     */
    public void setAccessedDirty(Leaf leaf, boolean dirty) {
        long[] path = leaf.entryAddrs();
        for (int i = 0; i < path.length; i++) {
            long e = memory.readLong(path[i]);
            long updated = e | A | (dirty && i == path.length - 1 ? D : 0);
            if (updated != e) {
                memory.writeLong(path[i], updated);
            }
        }
    }

    /**
     * Installs a leaf {@code iova -> pa} of {@code pageSize} (4 KiB, 2 MiB or 1 GiB) with {@code leafFlags}
     * (R, W, X, ...; PS is added for large pages), creating missing tables from {@code allocateTable}
     * (zeroed 4 KiB frames). Intermediate entries get R | W | X, so the leaf decides the rights.
     *
     * @return the physical address of the leaf entry
     */
    public long map(long root, long iova, long pa, long pageSize, long leafFlags, LongSupplier allocateTable) {
        int leafLevel = pageSize == 4096 ? 1 : pageSize == 1L << 21 ? 2 : pageSize == 1L << 30 ? 3 : -1;
        if (leafLevel < 0) {
            throw new IllegalArgumentException("page size must be 4 KiB, 2 MiB or 1 GiB: " + pageSize);
        }
        if (((iova | pa) & (pageSize - 1)) != 0) {
            throw new IllegalArgumentException(String.format("iova %#x and pa %#x must be aligned to %#x", iova, pa,
                    pageSize));
        }
        long table = root & ADDR_MASK;
        for (int level = levels; level > leafLevel; level--) {
            long entryAddr = table + 8L * X86Pte.index(iova, level);
            long e = memory.readLong(entryAddr);
            if ((e & (R | W)) == 0) {
                e = allocateTable.getAsLong() | R | W | X;
                memory.writeLong(entryAddr, e);
            } else if ((e & PS) != 0) {
                throw new IllegalStateException(String.format("%#x is inside a large page at level %d", iova, level));
            }
            table = e & ADDR_MASK;
        }
        long leafAddr = table + 8L * X86Pte.index(iova, leafLevel);
        memory.writeLong(leafAddr, pa | leafFlags | (leafLevel > 1 ? PS : 0));
        return leafAddr;
    }
}
