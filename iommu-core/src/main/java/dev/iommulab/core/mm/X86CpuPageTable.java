package dev.iommulab.core.mm;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.function.LongSupplier;

/** x86-64 4-level process page tables (arch/x86/mm). */
final class X86CpuPageTable implements CpuPageTable {

    private final PhysicalMemory memory;
    private final X86PageTable table;

    X86CpuPageTable(PhysicalMemory memory) {
        this.memory = memory;
        this.table = new X86PageTable(memory, 4);
    }

    @Override
    public Pte lookup(long root, long va) {
        long at = table.leafEntryAddress(root, va);
        long pte = at < 0 ? 0 : memory.readLong(at);
        return X86Pte.present(pte) ? new Pte(true, (pte & X86Pte.RW) != 0, X86Pte.address(pte)) : Pte.NONE;
    }

    @Override
    public void install(long root, long va, long frame, boolean writable, boolean executable,
                        LongSupplier allocateTable) {
        long flags = X86Pte.US | X86Pte.A | (writable ? X86Pte.RW | X86Pte.D : 0) | (executable ? 0 : X86Pte.XD);
        table.map4k(root, va, frame, flags, allocateTable);
    }

    /** x86 {@code _PAGE_PROTNONE}: the global bit of a non-present entry that still maps a frame. */
    private static final long PROTNONE = X86Pte.G;

    @Override
    public long clear(long root, long va) {
        long at = table.leafEntryAddress(root, va);
        long pte = at < 0 ? 0 : memory.readLong(at);
        if (!X86Pte.present(pte) && (pte & PROTNONE) == 0) {
            return -1;
        }
        memory.writeLong(at, 0);
        return X86Pte.address(pte);
    }

    @Override
    public boolean protect(long root, long va, boolean accessible, boolean writable) {
        long at = table.leafEntryAddress(root, va);
        long pte = at < 0 ? 0 : memory.readLong(at);
        if (!X86Pte.present(pte) && (pte & PROTNONE) == 0) {
            return false;
        }
        long bits = pte & ~(X86Pte.P | X86Pte.RW | PROTNONE);
        memory.writeLong(at, bits | (accessible ? X86Pte.P | (writable ? X86Pte.RW : 0) : PROTNONE));
        return true;
    }

    @Override
    public long translate(long root, long va) {
        return table.walk(root, va) instanceof WalkResult.Leaf leaf ? leaf.pa() : -1;
    }
}
