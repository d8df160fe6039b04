package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A process address space ({@code struct mm_struct}): VMAs and the CPU page tables, in the machine's
 * {@link CpuPageTable} format, in simulated physical memory. The IOMMU walks the same tables for the process's PASID,
 * so what {@link #handleMmFault} installs is what the device gets, and what {@link #munmap} and {@link #mprotect}
 * take away the device loses — once each registered {@link MmuNotifier} invalidated its secondary TLBs.
 *
 * <p>Anonymous memory as Linux does it: a read fault maps the shared zero page read-only; a write fault allocates a
 * zeroed private page (copy-on-write from the zero page). Two reference counts as in the kernel: {@code mm_users}
 * ({@link #mmgetNotZero}/{@link #mmput}; the last user tears the address space down) and {@code mm_count}
 * ({@link #mmgrab}/{@link #mmdrop}; the users together hold one, and the last drop destroys the mm). Frames can be
 * pinned for DMA ({@link #pinUserPages}); a pinned frame outlives its mapping until the last unpin.
 *
 * <p>Why over 300 lines: this is the whole mm API the kernel layers call — mmap/munmap/mprotect, the two reference
 * counts, notifiers, the fault entry point, GUP pinning, each with its kernel contract in Javadoc. The work is in
 * {@link VmaTree}, {@link MmPages}, {@link MmFault} and {@link Gup}; one class keeps the surface the kernel's
 * {@code struct mm_struct} has.
 */
public final class MmStruct {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    private final String name;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final CpuPageTable pageTable;
    private final long pgd;
    private final long zeroPage;
    private final VmaTree vmas = new VmaTree();
    private final MmPages pages;
    private final Gup gup;
    private final MmFault fault;
    private int users = 1;
    private int count = 1;
    private final List<MmuNotifier> notifiers = new ArrayList<>();
    private final List<Runnable> dropHooks = new ArrayList<>();
    private long faults;
    private boolean lam;
    private boolean forceTaggedSva;

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
        this.pages = new MmPages(pageTable, pgd);
        this.gup = new Gup(this, frames, zeroPage);
        this.fault = new MmFault(pages, frames, zeroPage, this::flushSecondaryTlbs);
    }

    public String name() {
        return name;
    }

    /** Physical address of the top-level table (mm->pgd, what CR3 and the PASID entry point at). */
    public long pgd() {
        return pgd;
    }

    /**
     * arch_prctl(ARCH_ENABLE_TAGGED_ADDR) on x86-64: Linear Address Masking for the process (mm->context.lam_cr3_mask
     * set), and with {@code forceTaggedSva} also ARCH_FORCE_TAGGED_SVA, by which the process promises to hand devices
     * only untagged addresses.
     *
     * @throws KernelException EINVAL on a process whose page tables are not x86-64 (no LAM there)
     */
    public void enableLam(boolean forceTaggedSva) {
        if (!(pageTable instanceof X86CpuPageTable)) {
            throw new KernelException(Errno.EINVAL, "mm", this + " is not an x86-64 process: no LAM");
        }
        this.lam = true;
        this.forceTaggedSva |= forceTaggedSva;
    }

    /**
     * arch_pgtable_dma_compat(): whether a device may walk this process's page tables. On x86-64 not while LAM is on
     * (the device would see tagged pointers) unless the process forced tagged SVA; elsewhere always.
     */
    public boolean pgtableDmaCompat() {
        return !lam || forceTaggedSva;
    }

    /** Number of handle_mm_fault() calls so far. */
    public long handledFaults() {
        return faults;
    }

    /** An anonymous {@link #mmap(long, long, int, Vma.Backing)}. */
    public Vma mmap(long start, long length, int vmFlags) {
        return mmap(start, length, vmFlags, Vma.Backing.ANONYMOUS);
    }

    /**
     * Adds a VMA, as mmap(MAP_FIXED_NOREPLACE) does: {@code length} is rounded up to whole pages; no access bits in
     * {@code vmFlags} is PROT_NONE.
     *
     * @throws KernelException EINVAL for an unaligned {@code start} or a {@code length} of 0 (or one that overflows),
     *                         EEXIST when the range overlaps an existing VMA; nothing changes then
     */
    public Vma mmap(long start, long length, int vmFlags, Vma.Backing backing) {
        long end = checkedEnd(start, length, "mmap");
        if (vmas.overlaps(start, end)) {
            throw new KernelException(Errno.EEXIST, "start",
                    String.format("[%#x, %#x) overlaps an existing VMA", start, end));
        }
        Vma vma = new Vma(start, end, vmFlags, backing);
        vmas.put(vma);
        return vma;
    }

    /**
     * Counterpart of munmap() (__do_munmap() → unmap_region()): VMAs are split at {@code start} and
     * {@code start + length} and the pieces inside removed; their leaves are cleared in the page table
     * (zap_pte_range()); then, if any leaf was cleared, the TLB flush of the gathered range
     * (tlb_finish_mmu() → flush_tlb_mm_range(), which ends with mmu_notifier_arch_invalidate_secondary_tlbs()) calls
     * each notifier's {@link MmuNotifier#invalidateSecondaryTlbs} — and only after it returned are the private frames
     * freed (the mmu_gather frees pages after the flush); the zero page is never freed, and a pinned frame only by its
     * last {@link #unpinUserPages}. A range with no VMA is a successful no-op.
     *
     * @throws KernelException EINVAL for an unaligned {@code start} or a {@code length} of 0; nothing changes then
     */
    public void munmap(long start, long length) {
        long end = checkedEnd(start, length, "munmap");
        if (!vmas.overlaps(start, end)) {
            return;
        }
        vmas.splitAt(start);
        vmas.splitAt(end);
        vmas.within(start, end).forEach(vmas::remove);
        MmPages.Gathered zapped = pages.zap(start, end);
        flushSecondaryTlbs(zapped);
        gup.release(zapped.frames());
    }

    /**
     * Counterpart of mprotect() (do_mprotect_pkey() → mprotect_fixup() → change_protection()): VMAs are split at the
     * boundaries and take {@code vmFlags}' access bits. Leaves lose what the new protection takes away — write removed:
     * read-only, still present; no access at all: PROT_NONE, not present to any walker but still the process's frame
     * — and the gathered range of changed leaves is flushed through the notifiers. What is granted needs no flush:
     * a PROT_NONE leaf becomes present read-only, and the next write fault makes it writable.
     *
     * <p>The kernel changes the VMAs below a hole before failing with ENOMEM; here a failed call changes nothing
     * (DESIGN §6).
     *
     * @throws KernelException EINVAL for an unaligned {@code start}; ENOMEM when {@code [start, start + length)} is not
     *                         wholly covered by VMAs. A {@code length} of 0 succeeds without doing anything.
     */
    public void mprotect(long start, long length, int vmFlags) {
        if ((start & (PAGE - 1)) != 0) {
            throw new KernelException(Errno.EINVAL, "start", String.format("mprotect: %#x is not page aligned", start));
        }
        if (length == 0) {
            return;
        }
        long end = start + pageAlign(length);
        if (end <= start || !vmas.covers(start, end)) {
            throw new KernelException(Errno.ENOMEM, "start",
                    String.format("mprotect: [%#x, %#x) is not wholly mapped", start, end));
        }
        int access = vmFlags & Vma.VM_ACCESS_FLAGS;
        vmas.splitAt(start);
        vmas.splitAt(end);
        for (Vma v : vmas.within(start, end)) {
            vmas.put(v.withFlags(v.flags() & ~Vma.VM_ACCESS_FLAGS | access));
        }
        flushSecondaryTlbs(pages.protect(start, end, access != 0, (access & Vma.VM_WRITE) != 0));
    }

    /** flush_tlb_mm_range()'s mmu_notifier_arch_invalidate_secondary_tlbs() for a gathered range, if any. */
    private void flushSecondaryTlbs(MmPages.Gathered range) {
        if (!range.isEmpty()) {
            for (MmuNotifier n : List.copyOf(notifiers)) {
                n.invalidateSecondaryTlbs(this, range.start(), range.end());
            }
        }
    }

    /** The end of {@code [start, start + PAGE_ALIGN(length))}, or EINVAL as mmap and munmap check. */
    private static long checkedEnd(long start, long length, String call) {
        if ((start & (PAGE - 1)) != 0 || start < 0) {
            throw new KernelException(Errno.EINVAL, "start", String.format("%s: %#x is not page aligned", call, start));
        }
        long end = start + pageAlign(length);
        if (length <= 0 || end <= start) {
            throw new KernelException(Errno.EINVAL, "length", String.format("%s: bad length %#x", call, length));
        }
        return end;
    }

    private static long pageAlign(long length) {
        return (length + PAGE - 1) & -PAGE;
    }

    public List<Vma> vmas() {
        return vmas.all();
    }

    /** Counterpart of vma_lookup(): the VMA containing {@code addr}, or null. */
    public Vma vmaLookup(long addr) {
        return vmas.lookup(addr);
    }

    /** Counterpart of mmget_not_zero(): takes a user reference unless the process has exited. */
    public boolean mmgetNotZero() {
        if (users == 0) {
            return false;
        }
        users++;
        return true;
    }

    /**
     * Counterpart of mmput(): the last user tears the address space down ({@link #exitMmap()}) and then drops the
     * users' {@code mm_count} reference ({@code __mmput()} → {@code mmdrop()}).
     */
    public void mmput() {
        if (users == 0) {
            throw new IllegalStateException("mmput on an mm without users");
        }
        if (--users == 0) {
            exitMmap();
            mmdrop();
        }
    }

    /** Counterpart of mmgrab(): keeps the {@code struct mm_struct} (not the address space) alive. */
    public void mmgrab() {
        if (count == 0) {
            throw new IllegalStateException("mmgrab on a destroyed mm");
        }
        count++;
    }

    /**
     * Counterpart of mmdrop(): the last reference runs {@code __mmdrop()}, which here calls each hook registered with
     * {@link #registerDropHook} in order (the kernel calls {@code mm_pasid_drop()} from there).
     */
    public void mmdrop() {
        if (count == 0) {
            throw new IllegalStateException("mmdrop on a destroyed mm");
        }
        if (--count == 0) {
            List<Runnable> hooks = List.copyOf(dropHooks);
            dropHooks.clear();
            hooks.forEach(Runnable::run);
        }
    }

    /** {@code mm_count}: 0 once the mm is destroyed. */
    public int mmCount() {
        return count;
    }

    /**
     * Something {@code __mmdrop()} must tear down with the mm, e.g. the IOMMU's {@code mm_pasid_drop()} that frees the
     * mm's PASID and {@code iommu_mm}; called once, when the last {@link #mmdrop} destroys the mm.
     */
    public void registerDropHook(Runnable hook) {
        dropHooks.add(Objects.requireNonNull(hook, "hook"));
    }

    /** Counterpart of mmu_notifier_register(): {@code notifier} hears of this mm's invalidations and teardown. */
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
     * Counterpart of exit_mmap(): mmu_notifier_release() calls each notifier's release and unhooks it — the secondary
     * MMUs let go first — then unmap_vmas() clears every leaf and the process's frames are freed (the zero page
     * never; a pinned frame at its last {@link #unpinUserPages}), and the VMAs go. The page-table pages themselves
     * stay allocated here.
     */
    private void exitMmap() {
        List<MmuNotifier> released = List.copyOf(notifiers);
        notifiers.clear();
        released.forEach(n -> n.release(this));
        gup.release(pages.zap(0, Long.MAX_VALUE).frames());
        vmas.clear();
    }

    public int users() {
        return users;
    }

    /**
     * Counterpart of handle_mm_fault(): resolves a fault at {@code addr} inside {@code vma}. A VMA backed by nothing
     * answers VM_FAULT_SIGBUS, as a file mapping does past the end of its file. {@link FaultFlags#FAULT_FLAG_UNSHARE}
     * on a leaf mapping the zero page gives the page a private zeroed copy, mapped read-only (do_wp_page() →
     * wp_page_copy() with unshare; every lab VMA is private, so a COW mapping); on a private page it does nothing, and
     * with FAULT_FLAG_WRITE it is VM_FAULT_SIGSEGV (sanitize_fault_flags()).
     *
     * @return 0 or VM_FAULT_* bits
     */
    public int handleMmFault(Vma vma, long addr, int faultFlags) {
        faults++;
        return fault.handle(vma, addr, faultFlags);
    }

    /**
     * Counterpart of pin_user_pages_fast() / pin_user_pages_remote() with {@code FOLL_LONGTERM}, and
     * {@code FOLL_WRITE} when {@code write}, as iommufd's pfn_reader_user_pin() calls them (mm/gup.c
     * __get_user_pages()): faults in and pins {@code npages} pages from {@code start}. Each page must lie in a VMA
     * that allows the access (VM_WRITE for a write pin, VM_READ for a read pin) and is backed by something. Pages not
     * present are faulted in through {@link #handleMmFault}. A write pin gets a private writable frame (a write fault
     * breaks COW of the zero page, as FOLL_WRITE does). A read pin never returns the zero page: since Linux 6.2
     * (gup_must_unshare(), "reliable R/O long-term pinning in COW mappings") a long-term read pin of the zero page in
     * a private mapping unshares it first, so the page gets a private zeroed frame mapped read-only, and a later write
     * by the process reuses that same frame — the device and the process keep seeing one page.
     *
     * <p>Each returned frame holds one more pin ({@link #pinCount}); munmap, mprotect and exit keep it allocated,
     * bytes intact, until {@link #unpinUserPages} drops the last pin.
     *
     * <p>The kernel walks page by page, leaves the pages before a bad one faulted in and returns a short count (the
     * caller unpins). Here the whole range is checked before anything is faulted in, so EFAULT and EINVAL change
     * nothing (DESIGN §6); ENOMEM part way leaves the earlier pages faulted in but none pinned.
     *
     * @param start  page-aligned user address
     * @param npages number of pages, at least 1
     * @param write  FOLL_WRITE: the device will write the pages
     * @return the physical frame of each page, in order
     * @throws KernelException EINVAL ({@code npages}) for {@code npages <= 0}, EINVAL ({@code start}) for an unaligned
     *                         {@code start}, EOVERFLOW ({@code npages}) when the range wraps; EFAULT ({@code start})
     *                         when a page has no VMA, its VMA forbids the access or is backed by nothing; ENOMEM
     *                         ({@code start}) when a fault-in runs out of frames. Nothing stays pinned then.
     */
    public long[] pinUserPages(long start, int npages, boolean write) {
        return gup.pin(start, npages, write);
    }

    /**
     * Counterpart of unpin_user_pages(): drops one pin of each frame (a frame listed twice drops two). A frame no
     * longer mapped by the process and no longer pinned is freed then; a frame still mapped stays the process's. The
     * zero page is skipped, as gup_put_folio() does: it is never pinned.
     *
     * @throws KernelException EINVAL ({@code frames}) when a frame would drop more pins than it holds — a kernel bug
     *                         (the kernel WARNs on the refcount underflow); no pin is dropped then
     */
    public void unpinUserPages(long[] frames) {
        gup.unpin(frames);
    }

    /** How many pins {@code frame} holds (0 when none; always 0 for the zero page). */
    public int pinCount(long frame) {
        return gup.pinCount(frame);
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
            int chunk = (int) Math.min(length - done, PAGE - (va & (PAGE - 1)));
            long pa = pageTable.translate(pgd, va);
            if (pa >= 0) {
                System.arraycopy(memory.read(pa, chunk), 0, out, done, chunk);
            }
            done += chunk;
        }
        return out;
    }

    /**
     * The physical address the CPU reaches for {@code va} now, or -1 when nothing maps it: what {@link #read} reads
     * from, for a caller that compares process memory in place ({@link #memory()}) instead of copying it.
     */
    public long physicalAddress(long va) {
        return pageTable.translate(pgd, va);
    }

    /** The physical memory the process's pages live in. */
    public PhysicalMemory memory() {
        return memory;
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
