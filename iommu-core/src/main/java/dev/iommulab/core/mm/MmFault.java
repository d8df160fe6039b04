package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.function.Consumer;

/**
 * The anonymous-memory fault path behind {@link MmStruct#handleMmFault} (mm/memory.c: do_anonymous_page() for a read
 * or write of a missing page, do_wp_page() → wp_page_copy() for a write or unshare of the zero page): which frame a
 * faulting page gets, installed in the process's CPU page table.
 */
final class MmFault {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    private final MmPages pages;
    private final FrameAllocator frames;
    private final long zeroPage;
    private final Consumer<MmPages.Gathered> flush;

    /** {@code flush}: the secondary-TLB flush of a cleared range (the mm's notifiers). */
    MmFault(MmPages pages, FrameAllocator frames, long zeroPage, Consumer<MmPages.Gathered> flush) {
        this.pages = pages;
        this.frames = frames;
        this.zeroPage = zeroPage;
        this.flush = flush;
    }

    /** See {@link MmStruct#handleMmFault}: 0 or VM_FAULT_* bits. */
    int handle(Vma vma, long addr, int faultFlags) {
        boolean write = (faultFlags & FaultFlags.FAULT_FLAG_WRITE) != 0;
        boolean unshare = (faultFlags & FaultFlags.FAULT_FLAG_UNSHARE) != 0;
        if (!vma.contains(addr) || write && unshare) {
            return VmFault.VM_FAULT_SIGSEGV;
        }
        if (vma.backing() == Vma.Backing.NONE) {
            return VmFault.VM_FAULT_SIGBUS;
        }
        long page = addr & -PAGE;
        CpuPageTable.Pte pte = pages.lookup(page);
        try {
            if (write) {
                if (pte.present() && pte.writable()) {
                    return 0;
                }
                boolean reuse = pte.present() && pte.frame() != zeroPage;
                long frame = reuse ? pte.frame() : frames.allocate();
                if (pte.present() && !reuse) {
                    breakCowOfZeroPage(page);
                }
                install(vma, page, frame, true);
            } else if (!pte.present()) {
                install(vma, page, zeroPage, false);
            } else if (unshare && pte.frame() == zeroPage) {
                long frame = frames.allocate();
                breakCowOfZeroPage(page);
                install(vma, page, frame, false);
            }
        } catch (KernelException e) {
            return VmFault.VM_FAULT_OOM;
        }
        return 0;
    }

    /**
     * wp_page_copy() for a write (or unshare) of the zero page: the old leaf is cleared and flushed (ptep_clear_flush(), whose TLB
     * flush reaches the secondary TLBs) before the private copy is installed, so no device keeps reading the zero
     * page through a cached translation once the process writes its own page.
     */
    private void breakCowOfZeroPage(long page) {
        flush.accept(pages.zap(page, page + PAGE));
    }

    private void install(Vma vma, long page, long frame, boolean writable) {
        pages.install(page, frame, writable, vma.has(Vma.VM_EXEC), frames::allocate);
    }
}
