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

    private final PhysicalMemory memory;
    private final RiscvPageTable table;

    RiscvCpuPageTable(PhysicalMemory memory) {
        this.memory = memory;
        this.table = new RiscvPageTable(memory, RiscvPagingMode.SV48);
    }

    @Override
    public Pte lookup(long root, long va) {
        long at = table.entryAddress(root, va, 0);
        long pte = at < 0 ? 0 : memory.readLong(at);
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

    /** RISC-V {@code _PAGE_PROT_NONE}: the global bit of an invalid entry that still maps a frame. */
    private static final long PROT_NONE = RiscvPte.G;

    @Override
    public long clear(long root, long va) {
        long at = table.entryAddress(root, va, 0);
        long pte = at < 0 ? 0 : memory.readLong(at);
        if (!RiscvPte.isValid(pte) && (pte & PROT_NONE) == 0) {
            return -1;
        }
        memory.writeLong(at, 0);
        return RiscvPte.address(pte);
    }

    @Override
    public boolean protect(long root, long va, boolean accessible, boolean writable) {
        long at = table.entryAddress(root, va, 0);
        long pte = at < 0 ? 0 : memory.readLong(at);
        if (!RiscvPte.isValid(pte) && (pte & PROT_NONE) == 0) {
            return false;
        }
        long bits = pte & ~(RiscvPte.V | RiscvPte.W | PROT_NONE);
        memory.writeLong(at, bits | (accessible ? RiscvPte.V | (writable ? RiscvPte.W | RiscvPte.D : 0) : PROT_NONE));
        return true;
    }

    @Override
    public long translate(long root, long va) {
        RiscvWalkResult walk = table.walk(root, va, RiscvWalkRequest.user(Access.READ));
        return walk instanceof RiscvWalkResult.Leaf leaf ? leaf.pa() : -1;
    }
}
