package dev.iommulab.hw.pgtable;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.function.LongSupplier;

/**
 * The x86-64 paging format (4 or 5 levels, 4 KiB / 2 MiB / 1 GiB pages) read and written in
 * {@link PhysicalMemory}. The same bytes serve the CPU (the process page tables of the mm) and VT-d
 * first-stage translation, which walks them for a PASID.
 *
 * <p>The walk is what the hardware does: it reads each entry from memory, checks P and the
 * reserved bits, and accumulates rights. It does not decide about permissions; callers compare the
 * leaf's rights with the request.
 */
public final class X86PageTable {

    /** Physical address width assumed for reserved-bit checks (bits 51:46 must be zero). */
    public static final int MAX_PHYS_ADDR_BITS = 46;
    /** Page sizes a leaf can map: PTE, PDE with PS, PDPTE with PS. */
    public static final long PAGE_4K = 1L << 12;
    public static final long PAGE_2M = 1L << 21;
    public static final long PAGE_1G = 1L << 30;
    private static final long HIGH_RESERVED = ((1L << 52) - 1) & ~((1L << MAX_PHYS_ADDR_BITS) - 1);

    private final PhysicalMemory memory;
    private final int levels;

    public X86PageTable(PhysicalMemory memory, int levels) {
        if (levels != 4 && levels != 5) {
            throw new IllegalArgumentException("x86-64 paging has 4 or 5 levels, not " + levels);
        }
        this.memory = memory;
        this.levels = levels;
    }

    public int levels() {
        return levels;
    }

    /** Whether {@code va} is canonical: bits above the top translated bit are copies of it. */
    public boolean isCanonical(long va) {
        int vaBits = 12 + 9 * levels;
        long top = va >> (vaBits - 1);
        return top == 0 || top == -1;
    }

    /** Walks the table rooted at {@code root} for {@code va}; reads memory only. */
    public WalkResult walk(long root, long va) {
        if (!isCanonical(va)) {
            return new WalkResult.Fault(levels, WalkResult.Cause.NON_CANONICAL, -1);
        }
        long table = root & X86Pte.ADDR_MASK;
        boolean writable = true;
        boolean user = true;
        boolean executable = true;
        for (int level = levels; level >= 1; level--) {
            long entryAddr = table + 8L * X86Pte.index(va, level);
            if (!memory.contains(entryAddr, 8)) {
                return new WalkResult.Fault(level, WalkResult.Cause.FETCH_ERROR, entryAddr);
            }
            long pte = memory.readLong(entryAddr);
            if (!X86Pte.present(pte)) {
                return new WalkResult.Fault(level, WalkResult.Cause.NOT_PRESENT, entryAddr);
            }
            if (hasReservedBits(pte, level)) {
                return new WalkResult.Fault(level, WalkResult.Cause.RESERVED_BITS, entryAddr);
            }
            writable &= (pte & X86Pte.RW) != 0;
            user &= (pte & X86Pte.US) != 0;
            executable &= (pte & X86Pte.XD) == 0;
            boolean leaf = level == 1 || (pte & X86Pte.PS) != 0;
            if (leaf) {
                long span = X86Pte.entrySpan(level);
                long pa = (pte & X86Pte.ADDR_MASK & ~(span - 1)) | (va & (span - 1));
                return new WalkResult.Leaf(pa, span, level, writable, user, executable,
                        (pte & X86Pte.A) != 0, (pte & X86Pte.D) != 0, entryAddr);
            }
            table = pte & X86Pte.ADDR_MASK;
        }
        throw new AssertionError("unreachable: level 1 is always a leaf");
    }

    /**
     * Whether the present entry {@code pte} read at {@code level} has reserved bits set: address bits above
     * {@link #MAX_PHYS_ADDR_BITS}, PS at level 4 or above, or the low address bits of a 1 GiB or 2 MiB page. The same
     * rules hold for x86-64 entries wherever they are read (VT-d first-stage tables at host addresses).
     */
    public static boolean hasReservedBits(long pte, int level) {
        if ((pte & HIGH_RESERVED) != 0) {
            return true;
        }
        boolean ps = (pte & X86Pte.PS) != 0;
        if (ps && level >= 4) {
            return true;
        }
        if (ps && level == 3) {
            return (pte & 0x3fff_e000L) != 0;
        }
        if (ps && level == 2) {
            return (pte & 0x1f_e000L) != 0;
        }
        return false;
    }

    /** Sets A, and D when {@code dirty}, in the leaf entry, as the hardware does on use. */
    public void setAccessedDirty(WalkResult.Leaf leaf, boolean dirty) {
        long pte = memory.readLong(leaf.pteAddr());
        long updated = pte | X86Pte.A | (dirty ? X86Pte.D : 0);
        if (updated != pte) {
            memory.writeLong(leaf.pteAddr(), updated);
        }
    }

    /**
     * Installs a 4 KiB leaf {@code va -> pa} with {@code leafFlags} (P is added), creating missing
     * intermediate tables from {@code allocateTable} (which returns zeroed 4 KiB frames). Intermediate
     * entries get P|RW|US, as Linux does for user mappings; rights are decided by the leaf.
     *
     * @return the physical address of the leaf entry
     */
    public long map4k(long root, long va, long pa, long leafFlags, LongSupplier allocateTable) {
        if ((va & 0xfff) != 0 || (pa & 0xfff) != 0) {
            throw new IllegalArgumentException(String.format("va %#x and pa %#x must be 4 KiB aligned", va, pa));
        }
        return install(root, va, pa, 1, leafFlags, allocateTable);
    }

    /**
     * Installs a leaf {@code va -> pa} of {@code pageSize} ({@link #PAGE_4K}, {@link #PAGE_2M} in a PDE
     * or {@link #PAGE_1G} in a PDPTE, SDM Vol. 3A §4.5 Tables 4-15 and 4-17) with {@code leafFlags};
     * P is added, and PS for the two large sizes. Missing intermediate tables are taken from
     * {@code allocateTable} (zeroed 4 KiB frames) and their entries get P|RW|US, as in
     * {@link #map4k}. A present leaf of the same size is replaced.
     *
     * @param leafFlags attribute bits only: P, RW, US, PWT, PCD, A, D, G, XD (and PS, which is implied
     *                  by the size); no address bits, so the PAT bit of a large leaf (bit 12) is
     *                  not supported
     * @return the physical address of the leaf entry
     * @throws IllegalArgumentException for another page size, a misaligned {@code va} or {@code pa}, a
     *                                  non-canonical {@code va}, a {@code pa} beyond
     *                                  {@link #MAX_PHYS_ADDR_BITS} or address bits in {@code leafFlags}
     * @throws IllegalStateException    when {@code va} lies inside a present larger page, or a present
     *                                  table sits where the large leaf goes (it would be orphaned)
     */
    public long map(long root, long va, long pa, long pageSize, long leafFlags, LongSupplier allocateTable) {
        int level = leafLevel(pageSize);
        if ((va & (pageSize - 1)) != 0 || (pa & (pageSize - 1)) != 0) {
            throw new IllegalArgumentException(String.format("va %#x and pa %#x must be aligned to %#x",
                    va, pa, pageSize));
        }
        if (!isCanonical(va)) {
            throw new IllegalArgumentException(String.format("va %#x is not canonical for %d levels", va, levels));
        }
        if ((pa & (HIGH_RESERVED | ~X86Pte.ADDR_MASK)) != 0) {
            throw new IllegalArgumentException(String.format("pa %#x is wider than %d bits", pa, MAX_PHYS_ADDR_BITS));
        }
        if ((leafFlags & X86Pte.ADDR_MASK) != 0) {
            throw new IllegalArgumentException(String.format("leafFlags %#x hold address bits", leafFlags));
        }
        long flags = level == 1 ? leafFlags & ~X86Pte.PS : leafFlags | X86Pte.PS;
        return install(root, va, pa, level, flags, allocateTable);
    }

    /** The level whose entry maps a page of {@code pageSize}: 1 for 4 KiB, 2 for 2 MiB, 3 for 1 GiB. */
    private static int leafLevel(long pageSize) {
        if (pageSize == PAGE_4K) {
            return 1;
        }
        if (pageSize == PAGE_2M) {
            return 2;
        }
        if (pageSize == PAGE_1G) {
            return 3;
        }
        throw new IllegalArgumentException(String.format("x86-64 pages are 4 KiB, 2 MiB or 1 GiB, not %#x", pageSize));
    }

    private long install(long root, long va, long pa, int leafLevel, long flags, LongSupplier allocateTable) {
        long table = root & X86Pte.ADDR_MASK;
        for (int level = levels; level > leafLevel; level--) {
            long entryAddr = table + 8L * X86Pte.index(va, level);
            long pte = memory.readLong(entryAddr);
            if (!X86Pte.present(pte)) {
                long next = allocateTable.getAsLong();
                pte = next | X86Pte.P | X86Pte.RW | X86Pte.US;
                memory.writeLong(entryAddr, pte);
            } else if ((pte & X86Pte.PS) != 0) {
                throw new IllegalStateException(String.format("%#x is inside a huge page at level %d", va, level));
            }
            table = pte & X86Pte.ADDR_MASK;
        }
        long leafAddr = table + 8L * X86Pte.index(va, leafLevel);
        long old = memory.readLong(leafAddr);
        if (leafLevel > 1 && X86Pte.present(old) && (old & X86Pte.PS) == 0) {
            throw new IllegalStateException(String.format(
                    "a page table is present at level %d for %#x; unmap it before mapping a large page",
                    leafLevel, va));
        }
        memory.writeLong(leafAddr, pa | flags | X86Pte.P);
        return leafAddr;
    }

    /**
     * The physical address of the 4 KiB leaf entry for {@code va}, or -1 when an intermediate table is
     * missing. The entry itself may be non-present.
     */
    public long leafEntryAddress(long root, long va) {
        long table = root & X86Pte.ADDR_MASK;
        for (int level = levels; level > 1; level--) {
            long pte = memory.readLong(table + 8L * X86Pte.index(va, level));
            if (!X86Pte.present(pte) || (pte & X86Pte.PS) != 0) {
                return -1;
            }
            table = pte & X86Pte.ADDR_MASK;
        }
        return table + 8L * X86Pte.index(va, 1);
    }
}
