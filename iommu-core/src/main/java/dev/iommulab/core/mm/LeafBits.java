package dev.iommulab.core.mm;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The bits of a process page table's 4 KiB leaf that {@link CpuPageTable#clear} and {@link CpuPageTable#protect}
 * work with, and those two operations over them, the same on every architecture: a leaf is live when it is present
 * or PROT_NONE (x86 {@code _PAGE_PROTNONE}, RISC-V {@code _PAGE_PROT_NONE}: the global bit of a not-present entry
 * that still maps a frame).
 *
 * @param present  the present (valid) bit
 * @param write    the bit that makes a leaf writable, cleared by {@link #protect}
 * @param writable what {@link #protect} sets for a writable leaf: {@code write}, with dirty where the format wants it
 * @param protNone the PROT_NONE marker
 */
record LeafBits(long present, long write, long writable, long protNone) {

    /** The leaf entry at {@code at}, 0 for -1 (a table above it is missing). */
    static long read(PhysicalMemory memory, long at) {
        return at < 0 ? 0 : memory.readLong(at);
    }

    /** Empties the live leaf at {@code at}; returns the entry it held, or 0 when there was none (nothing changed). */
    long clear(PhysicalMemory memory, long at) {
        long pte = read(memory, at);
        if ((pte & (present | protNone)) == 0) {
            return 0;
        }
        memory.writeLong(at, 0);
        return pte;
    }

    /**
     * Makes the live leaf at {@code at} present (writable only when {@code writable}) or, without {@code accessible},
     * PROT_NONE, keeping its other bits; false when there is no live leaf.
     */
    boolean protect(PhysicalMemory memory, long at, boolean accessible, boolean writable) {
        long pte = read(memory, at);
        if ((pte & (present | protNone)) == 0) {
            return false;
        }
        long bits = pte & ~(present | write | protNone);
        memory.writeLong(at, bits | (accessible ? present | (writable ? this.writable : 0) : protNone));
        return true;
    }
}
