package dev.iommulab.core.mm;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.function.LongSupplier;

/**
 * The CPU's page-table format for a process: what {@link MmStruct} writes and what an IOMMU doing SVA
 * walks for the process's PASID. The machine's architecture decides it: x86-64 4-level beside VT-d,
 * RISC-V Sv48 beside the RISC-V IOMMU.
 */
public interface CpuPageTable {

    /** One 4 KiB leaf as the mm sees it. */
    record Pte(boolean present, boolean writable, long frame) {
        static final Pte NONE = new Pte(false, false, 0);
    }

    /** The 4 KiB leaf for {@code va}, or {@link Pte#NONE}-like (not present) when there is none. */
    Pte lookup(long root, long va);

    /**
     * Installs a user 4 KiB leaf {@code va -> frame}, accessed, and dirty when writable, creating missing
     * tables from {@code allocateTable}.
     */
    void install(long root, long va, long frame, boolean writable, boolean executable, LongSupplier allocateTable);

    /**
     * Counterpart of {@code ptep_get_and_clear()} in zap_pte_range(): the 4 KiB leaf for {@code va}, present or
     * PROT_NONE, becomes an empty entry. Tables are left in place.
     *
     * @return the frame the leaf mapped, or -1 when there was none
     */
    long clear(long root, long va);

    /**
     * Counterpart of change_pte_range() for one leaf, present or PROT_NONE, keeping its frame: with
     * {@code accessible} false it becomes a PROT_NONE entry (x86 {@code _PAGE_PROTNONE}, RISC-V
     * {@code _PAGE_PROT_NONE}: not present to any hardware walker, the frame still the process's); otherwise it is
     * present, writable only when {@code writable}. Other bits (user, accessed, dirty, execute) are kept.
     *
     * @return false when {@code va} has no leaf (nothing changed)
     */
    boolean protect(long root, long va, boolean accessible, boolean writable);

    /** The physical address {@code va} translates to for a CPU read, or -1. */
    long translate(long root, long va);

    /** x86-64, 4 levels. */
    static CpuPageTable x86(PhysicalMemory memory) {
        return new X86CpuPageTable(memory);
    }

    /** RISC-V Sv48. */
    static CpuPageTable riscvSv48(PhysicalMemory memory) {
        return new RiscvCpuPageTable(memory);
    }
}
