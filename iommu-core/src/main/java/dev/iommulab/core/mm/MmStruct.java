package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A process address space ({@code struct mm_struct}): VMAs and the CPU page tables, in the machine's
 * {@link CpuPageTable} format, in simulated physical memory. The IOMMU walks the same tables for the process's PASID, so what
 * {@link #handleMmFault} installs is what the device gets.
 *
 * <p>Anonymous memory as Linux does it: a read fault maps the shared zero page read-only; a write
 * fault allocates a zeroed private page (copy-on-write from the zero page).
 */
public final class MmStruct {

    private final String name;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final CpuPageTable pageTable;
    private final long pgd;
    private final long zeroPage;
    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    private int users = 1;
    private final List<MmuNotifier> notifiers = new ArrayList<>();
    private long faults;

    /**
     * An x86-64 process.
     *
     * @param zeroPage the shared, never written zero frame (empty_zero_page)
     */
    public MmStruct(String name, FrameAllocator frames, long zeroPage) {
        this(name, frames, zeroPage, CpuPageTable.x86(frames.memory()));
    }

    /**
     * @param zeroPage  the shared, never written zero frame (empty_zero_page)
     * @param pageTable the CPU's page-table format
     */
    public MmStruct(String name, FrameAllocator frames, long zeroPage, CpuPageTable pageTable) {
        this.name = Objects.requireNonNull(name, "name");
        this.frames = Objects.requireNonNull(frames, "frames");
        this.memory = frames.memory();
        this.pageTable = Objects.requireNonNull(pageTable, "pageTable");
        this.pgd = frames.allocate();
        this.zeroPage = zeroPage;
    }

    public String name() {
        return name;
    }

    /** Physical address of the top-level table (mm->pgd, what CR3 and the PASID entry point at). */
    public long pgd() {
        return pgd;
    }

    /** Number of handle_mm_fault() calls so far. */
    public long handledFaults() {
        return faults;
    }

    /** Adds a VMA (mmap with MAP_FIXED_NOREPLACE semantics): EINVAL if it overlaps an existing one. */
    public Vma mmap(long start, long length, int vmFlags) {
        Vma vma;
        try {
            vma = new Vma(start, start + length, vmFlags);
        } catch (IllegalArgumentException e) {
            throw new KernelException(Errno.EINVAL, "start", e.getMessage());
        }
        Map.Entry<Long, Vma> below = vmas.floorEntry(vma.end() - 1);
        if (below != null && below.getValue().end() > vma.start()) {
            throw new KernelException(Errno.EINVAL, "start",
                    String.format("[%#x, %#x) overlaps an existing VMA", vma.start(), vma.end()));
        }
        vmas.put(start, vma);
        return vma;
    }

    public List<Vma> vmas() {
        return List.copyOf(vmas.values());
    }

    /** Counterpart of vma_lookup(): the VMA containing {@code addr}, or null. */
    public Vma vmaLookup(long addr) {
        Map.Entry<Long, Vma> e = vmas.floorEntry(addr);
        return e != null && e.getValue().contains(addr) ? e.getValue() : null;
    }

    /** Counterpart of mmget_not_zero(): takes a user reference unless the process has exited. */
    public boolean mmgetNotZero() {
        if (users == 0) {
            return false;
        }
        users++;
        return true;
    }

    /** Counterpart of mmput(): the last user tears the address space down ({@link #exitMmap()}). */
    public void mmput() {
        if (users == 0) {
            throw new IllegalStateException("mmput on an mm without users");
        }
        if (--users == 0) {
            exitMmap();
        }
    }

    /** Counterpart of mmu_notifier_register(): {@code notifier} hears of this mm's teardown. */
    public void mmuNotifierRegister(MmuNotifier notifier) {
        notifiers.add(Objects.requireNonNull(notifier, "notifier"));
    }

    /** Counterpart of mmu_notifier_put() / unregister: {@code notifier} hears nothing more. */
    public void mmuNotifierUnregister(MmuNotifier notifier) {
        notifiers.remove(notifier);
    }

    /** The notifiers registered and not yet released or unregistered. */
    public List<MmuNotifier> mmuNotifiers() {
        return List.copyOf(notifiers);
    }

    /**
     * Counterpart of exit_mmap() as far as the IOMMU sees it: mmu_notifier_release() calls each notifier's
     * release and unhooks it, then the VMAs go (page tables stay allocated here; nothing walks them once every
     * secondary MMU let go).
     */
    private void exitMmap() {
        List<MmuNotifier> released = List.copyOf(notifiers);
        notifiers.clear();
        released.forEach(n -> n.release(this));
        vmas.clear();
    }

    public int users() {
        return users;
    }

    /**
     * Counterpart of handle_mm_fault(): resolves a fault at {@code addr} inside {@code vma}.
     *
     * @return 0 or VM_FAULT_* bits
     */
    public int handleMmFault(Vma vma, long addr, int faultFlags) {
        faults++;
        if (!vma.contains(addr)) {
            return VmFault.VM_FAULT_SIGSEGV;
        }
        long page = addr & ~0xfffL;
        boolean write = (faultFlags & FaultFlags.FAULT_FLAG_WRITE) != 0;
        CpuPageTable.Pte pte = pageTable.lookup(pgd, page);
        try {
            if (write) {
                if (pte.present() && pte.writable()) {
                    return 0;
                }
                long frame = pte.present() && pte.frame() != zeroPage ? pte.frame() : frames.allocate();
                install(vma, page, frame, true);
            } else if (!pte.present()) {
                install(vma, page, zeroPage, false);
            }
        } catch (KernelException e) {
            return VmFault.VM_FAULT_OOM;
        }
        return 0;
    }

    private void install(Vma vma, long page, long frame, boolean writable) {
        pageTable.install(pgd, page, frame, writable, vma.has(Vma.VM_EXEC), frames::allocate);
    }

    /**
     * Reads process memory as the CPU would (copy_from_user); pages not mapped read as zero, like a
     * fresh anonymous page.
     */
    public byte[] read(long addr, int length) {
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long va = addr + done;
            int chunk = (int) Math.min(length - done, 4096 - (va & 0xfff));
            long pa = pageTable.translate(pgd, va);
            if (pa >= 0) {
                System.arraycopy(memory.read(pa, chunk), 0, out, done, chunk);
            }
            done += chunk;
        }
        return out;
    }

    @Override
    public String toString() {
        return "mm(" + name + ")";
    }

    /**
     * The 4 KiB leaf for {@code va} as the CPU page table holds it now (not present when nothing maps it): what a
     * walk of the process's table for its PASID finds at this instant. Counterpart of a software walk such as
     * follow_pte().
     */
    public CpuPageTable.Pte pteOf(long va) {
        return pageTable.lookup(pgd, va);
    }
}
