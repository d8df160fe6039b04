package dev.iommulab.core.mm;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;
import java.util.function.LongSupplier;

/** RISC-V Sv48 process page tables (arch/riscv/mm). */
final class RiscvCpuPageTable implements CpuPageTable {

    /** {@code _PAGE_PROT_NONE} is the global bit; a writable leaf is also dirty. */
    private static final LeafBits BITS = new LeafBits(RiscvPte.V, RiscvPte.W, RiscvPte.W | RiscvPte.D, RiscvPte.G);

    private final PhysicalMemory memory;
    private final RiscvPageTable table;

    RiscvCpuPageTable(PhysicalMemory memory) {
        this.memory = memory;
        this.table = new RiscvPageTable(memory, RiscvPagingMode.SV48);
    }

    @Override
    public Pte lookup(long root, long va) {
        long pte = LeafBits.read(memory, table.entryAddress(root, va, 0));
        return RiscvPte.isValid(pte) && RiscvPte.isLeaf(pte)
                ? new Pte(true, (pte & RiscvPte.W) != 0, RiscvPte.address(pte)) : Pte.NONE;
    }

    @Override
    public void install(long root, long va, long frame, boolean writable, boolean executable,
                        LongSupplier allocateTable) {
        long flags = RiscvPte.R | RiscvPte.U | RiscvPte.A | (writable ? RiscvPte.W | RiscvPte.D : 0)
                | (executable ? RiscvPte.X : 0);
        table.map(root, va, frame, 4096, flags, allocateTable);
    }

    @Override
    public long clear(long root, long va) {
        long pte = BITS.clear(memory, table.entryAddress(root, va, 0));
        return pte == 0 ? -1 : RiscvPte.address(pte);
    }

    @Override
    public boolean protect(long root, long va, boolean accessible, boolean writable) {
        return BITS.protect(memory, table.entryAddress(root, va, 0), accessible, writable);
    }

    @Override
    public long translate(long root, long va) {
        RiscvWalkResult walk = table.walk(root, va, RiscvWalkRequest.user(Access.READ));
        return walk instanceof RiscvWalkResult.Leaf leaf ? leaf.pa() : -1;
    }
}
