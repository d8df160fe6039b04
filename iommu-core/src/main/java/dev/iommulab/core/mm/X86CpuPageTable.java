package dev.iommulab.core.mm;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.function.LongSupplier;

/** x86-64 4-level process page tables (arch/x86/mm). */
final class X86CpuPageTable implements CpuPageTable {

    /** {@code _PAGE_PROTNONE} is the global bit. */
    private static final LeafBits BITS = new LeafBits(X86Pte.P, X86Pte.RW, X86Pte.RW, X86Pte.G);

    private final PhysicalMemory memory;
    private final X86PageTable table;

    X86CpuPageTable(PhysicalMemory memory) {
        this.memory = memory;
        this.table = new X86PageTable(memory, 4);
    }

    @Override
    public Pte lookup(long root, long va) {
        long pte = LeafBits.read(memory, table.leafEntryAddress(root, va));
        return X86Pte.present(pte) ? new Pte(true, (pte & X86Pte.RW) != 0, X86Pte.address(pte)) : Pte.NONE;
    }

    @Override
    public void install(long root, long va, long frame, boolean writable, boolean executable,
                        LongSupplier allocateTable) {
        long flags = X86Pte.US | X86Pte.A | (writable ? X86Pte.RW | X86Pte.D : 0) | (executable ? 0 : X86Pte.XD);
        table.map4k(root, va, frame, flags, allocateTable);
    }

    @Override
    public long clear(long root, long va) {
        long pte = BITS.clear(memory, table.leafEntryAddress(root, va));
        return pte == 0 ? -1 : X86Pte.address(pte);
    }

    @Override
    public boolean protect(long root, long va, boolean accessible, boolean writable) {
        return BITS.protect(memory, table.leafEntryAddress(root, va), accessible, writable);
    }

    @Override
    public long translate(long root, long va) {
        return table.walk(root, va) instanceof WalkResult.Leaf leaf ? leaf.pa() : -1;
    }
}
