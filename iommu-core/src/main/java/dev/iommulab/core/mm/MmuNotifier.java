package dev.iommulab.core.mm;

/**
 * A secondary MMU's view of a process address space ({@code struct mmu_notifier} with its
 * {@code mmu_notifier_ops}, include/linux/mmu_notifier.h): an IOMMU driver whose SVA domain walks the
 * process's page tables registers one so that it hears when those tables change or go away.
 */
public interface MmuNotifier {

    /**
     * Counterpart of {@code ops->release}: the address space is being torn down ({@code exit_mmap()} →
     * {@code mmu_notifier_release()}), before its page tables are freed; the notifier is unhooked afterwards.
     */
    void release(MmStruct mm);
}
