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

    private static boolean hasReservedBits(long pte, int level) {
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
        long table = root & X86Pte.ADDR_MASK;
        for (int level = levels; level > 1; level--) {
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
        long leafAddr = table + 8L * X86Pte.index(va, 1);
        memory.writeLong(leafAddr, pa | leafFlags | X86Pte.P);
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
