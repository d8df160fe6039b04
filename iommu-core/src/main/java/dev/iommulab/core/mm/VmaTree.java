package dev.iommulab.core.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The VMAs of an mm by start address ({@code mm->mm_mt}, the maple tree), with the range operations munmap and
 * mprotect need: overlap, coverage, and splitting at a boundary ({@code __split_vma()}).
 */
final class VmaTree {

    private final TreeMap<Long, Vma> byStart = new TreeMap<>();

    /** The search behind vma_lookup() ({@link MmStruct#vmaLookup}): the VMA containing {@code addr}, or null. */
    Vma lookup(long addr) {
        Map.Entry<Long, Vma> e = byStart.floorEntry(addr);
        return e != null && e.getValue().contains(addr) ? e.getValue() : null;
    }

    /** Whether some VMA shares a byte with {@code [start, end)}. */
    boolean overlaps(long start, long end) {
        return !within(start, end).isEmpty();
    }

    /** The VMAs sharing a byte with {@code [start, end)}, lowest first. */
    List<Vma> within(long start, long end) {
        List<Vma> found = new ArrayList<>();
        Vma first = lookup(start);
        if (first != null) {
            found.add(first);
        }
        found.addAll(byStart.subMap(start, false, end, false).values());
        return found;
    }

    /** Whether {@code [start, end)} is covered by VMAs without a hole (what mprotect requires). */
    boolean covers(long start, long end) {
        long next = start;
        for (Vma v : within(start, end)) {
            if (v.start() > next) {
                return false;
            }
            next = v.end();
        }
        return next >= end;
    }

    /** __split_vma(): a VMA strictly containing {@code addr} becomes two pieces meeting at {@code addr}. */
    void splitAt(long addr) {
        Vma v = lookup(addr);
        if (v == null || v.start() == addr) {
            return;
        }
        byStart.put(v.start(), v.slice(v.start(), addr));
        byStart.put(addr, v.slice(addr, v.end()));
    }

    void put(Vma vma) {
        byStart.put(vma.start(), vma);
    }

    void remove(Vma vma) {
        byStart.remove(vma.start());
    }

    void clear() {
        byStart.clear();
    }

    List<Vma> all() {
        return List.copyOf(byStart.values());
    }
}
