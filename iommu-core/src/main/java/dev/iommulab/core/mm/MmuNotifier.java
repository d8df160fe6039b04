package dev.iommulab.core.mm;

/**
 * A secondary MMU's view of a process address space ({@code struct mmu_notifier} with its
 * {@code mmu_notifier_ops}, include/linux/mmu_notifier.h): an IOMMU driver whose SVA domain walks the
 * process's page tables registers one so that it hears when those tables change or go away.
 *
 * <p>Both callbacks run in the context of the task changing the mm (munmap, mprotect, exit), synchronously: when one
 * returns, the secondary MMU must no longer use what was taken away — the caller frees the pages next.
 */
public interface MmuNotifier {

    /**
     * Counterpart of {@code ops->release}: the address space is being torn down ({@code exit_mmap()} →
     * {@code mmu_notifier_release()}), before its page tables are freed; the notifier is unhooked afterwards.
     */
    void release(MmStruct mm);

    /**
     * Counterpart of {@code ops->arch_invalidate_secondary_tlbs}, called through
     * {@code mmu_notifier_arch_invalidate_secondary_tlbs()} at the end of the CPU TLB flush of {@code [start, end)}
     * (x86 {@code flush_tlb_mm_range()}): leaves in the range were cleared or lost permissions, and the pages they
     * mapped are freed as soon as this returns, so every cached translation of the range — IOTLB and device-TLB —
     * must be gone by then. {@code end} is exclusive (vm_end style); {@code (0, -1)} means the whole address space.
     * Optional, as in the kernel: the default does nothing.
     */
    default void invalidateSecondaryTlbs(MmStruct mm, long start, long end) {
    }
}
