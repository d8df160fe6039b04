package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.PageSet;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The leaves of one mm's page table and the range walks over them: installing a leaf (the fault path), zapping a
 * range (zap_pte_range()) and changing its protection (change_pte_range()). Each walk gathers the range of leaves it
 * took something away from, as an {@code mmu_gather} does, for the TLB flush that follows. The page-table bytes are
 * the truth; {@link #populated} only indexes which pages have a leaf, so a walk over a big range visits only those.
 */
final class MmPages {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    /** The gathered range {@code [start, end)}, empty when {@code start >= end}, and frames a zap took out. */
    record Gathered(long start, long end, List<Long> frames) {

        boolean isEmpty() {
            return start >= end;
        }
    }

    private final CpuPageTable table;
    private final long root;
    private final PageSet populated = new PageSet();

    MmPages(CpuPageTable table, long root) {
        this.table = table;
        this.root = root;
    }

    CpuPageTable.Pte lookup(long va) {
        return table.lookup(root, va);
    }

    void install(long page, long frame, boolean writable, boolean executable, LongSupplier allocateTable) {
        table.install(root, page, frame, writable, executable, allocateTable);
        populated.add(page);
    }

    /** Clears every leaf in {@code [start, end)}; the gathered frames are those it mapped, the zero page included. */
    Gathered zap(long start, long end) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        List<Long> frames = new ArrayList<>();
        for (long va : populated.inRange(start, end)) {
            long frame = table.clear(root, va);
            populated.remove(va);
            if (frame >= 0) {
                lo = Math.min(lo, va);
                hi = Math.max(hi, va + PAGE);
                frames.add(frame);
            }
        }
        return new Gathered(lo, hi, frames);
    }

    /**
     * Applies a VMA's new protection to the leaves in {@code [start, end)}: {@code accessible} false makes present
     * leaves PROT_NONE, {@code writable} false makes them read-only; a PROT_NONE leaf in a range that became
     * accessible is present read-only again. Gathers only the leaves that lost something.
     */
    Gathered protect(long start, long end, boolean accessible, boolean writable) {
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        for (long va : populated.inRange(start, end)) {
            CpuPageTable.Pte old = table.lookup(root, va);
            if (old.present() && (!accessible || old.writable() && !writable)) {
                table.protect(root, va, accessible, false);
                lo = Math.min(lo, va);
                hi = Math.max(hi, va + PAGE);
            } else if (!old.present() && accessible) {
                table.protect(root, va, true, false);
            }
        }
        return new Gathered(lo, hi, List.of());
    }
}
