package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Long-term page pinning over one mm (mm/gup.c): {@code pin_user_pages(FOLL_LONGTERM)} as iommufd's
 * {@code pfn_reader_user_pin()} calls it, {@code unpin_user_pages()}, and the pin count of each frame. A pinned frame
 * outlives its mapping: what munmap or exit_mmap zaps while pinned is kept (bytes intact) until the last unpin frees
 * it, as the page's refcount does in the kernel ({@code GUP_PIN_COUNTING_BIAS} on top of the mapping's reference).
 *
 * <p>The zero page is never pinned or counted ({@code try_grab_folio()} and {@code gup_put_folio()} skip it since
 * Linux 6.5), and never freed.
 */
final class Gup {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;
    /** A resolved page takes at most a fault-in and an unshare (read) or one write fault; more is a lab bug. */
    private static final int MAX_FAULTS_PER_PAGE = 3;

    private final MmStruct mm;
    private final FrameAllocator frames;
    private final long zeroPage;
    private final Map<Long, Integer> pins = new TreeMap<>();
    /** Pinned frames the process no longer maps: freed by their last unpin. */
    private final TreeSet<Long> unmapped = new TreeSet<>();

    Gup(MmStruct mm, FrameAllocator frames, long zeroPage) {
        this.mm = mm;
        this.frames = frames;
        this.zeroPage = zeroPage;
    }

    /** See {@link MmStruct#pinUserPages}. */
    long[] pin(long start, int npages, boolean write) {
        if (npages <= 0) {
            throw new KernelException(Errno.EINVAL, "npages", "pin_user_pages: npages " + npages + " <= 0");
        }
        if ((start & (PAGE - 1)) != 0) {
            throw new KernelException(Errno.EINVAL, "start",
                    String.format("pin_user_pages: %#x is not page aligned", start));
        }
        if (start + npages * PAGE < start) {
            throw new KernelException(Errno.EOVERFLOW, "npages",
                    String.format("pin_user_pages: %#x + %d pages overflows", start, npages));
        }
        for (int i = 0; i < npages; i++) {
            checkVma(start + i * PAGE, write);
        }
        long[] out = new long[npages];
        int pinned = 0;
        try {
            for (; pinned < npages; pinned++) {
                long va = start + pinned * PAGE;
                out[pinned] = grab(followOrFault(mm.vmaLookup(va), va, write));
            }
        } catch (KernelException e) {
            unpin(Arrays.copyOf(out, pinned));
            throw e;
        }
        return out;
    }

    /**
     * __get_user_pages()'s per-VMA checks, done for the whole range before anything is faulted in: a VMA must hold
     * the page (gup_vma_lookup()), allow the access (check_vma_flags() without FOLL_FORCE) and be backed — a VMA
     * backed by nothing would answer the fault-in VM_FAULT_SIGBUS, which faultin_page() makes -EFAULT.
     */
    private void checkVma(long va, boolean write) {
        Vma vma = mm.vmaLookup(va);
        String why = vma == null ? "no VMA"
                : write && !vma.has(Vma.VM_WRITE) ? "VMA not writable"
                : !write && !vma.has(Vma.VM_READ) ? "VMA not readable"
                : vma.backing() == Vma.Backing.NONE ? "VMA backed by nothing (SIGBUS)"
                : null;
        if (why != null) {
            throw new KernelException(Errno.EFAULT, "start", String.format("pin_user_pages: %#x: %s", va, why));
        }
    }

    /**
     * follow_page_pte() and faultin_page() until the page can be pinned: not present — fault it in (a write fault
     * for FOLL_WRITE); a write pin of a read-only leaf — write fault ({@code can_follow_write_pte()} false); a read
     * pin of the zero page — unshare fault, since the zero page is not an anonymous page and every lab VMA is a
     * private, COW mapping ({@code gup_must_unshare()} with FOLL_LONGTERM gives -EMLINK).
     */
    private long followOrFault(Vma vma, long va, boolean write) {
        for (int n = 0; ; n++) {
            CpuPageTable.Pte pte = mm.pteOf(va);
            int flags;
            if (!pte.present()) {
                flags = write ? FaultFlags.FAULT_FLAG_WRITE : 0;
            } else if (write && !pte.writable()) {
                flags = FaultFlags.FAULT_FLAG_WRITE;
            } else if (!write && pte.frame() == zeroPage) {
                flags = FaultFlags.FAULT_FLAG_UNSHARE;
            } else {
                return pte.frame();
            }
            if (n == MAX_FAULTS_PER_PAGE) {
                throw new IllegalStateException(String.format("%s: fault at %#x does not resolve", mm, va));
            }
            int ret = mm.handleMmFault(vma, va, flags);
            if ((ret & VmFault.VM_FAULT_OOM) != 0) {
                throw new KernelException(Errno.ENOMEM, "start", String.format("pin_user_pages: %#x: OOM", va));
            }
            if ((ret & VmFault.VM_FAULT_ERROR) != 0) {
                throw new KernelException(Errno.EFAULT, "start",
                        String.format("pin_user_pages: %#x: fault returned %#x", va, ret));
            }
        }
    }

    /** try_grab_folio(FOLL_PIN): one more pin, none on the zero page. */
    private long grab(long frame) {
        if (frame != zeroPage) {
            pins.merge(frame, 1, Integer::sum);
        }
        return frame;
    }

    /** See {@link MmStruct#unpinUserPages}. */
    void unpin(long[] toUnpin) {
        Objects.requireNonNull(toUnpin, "frames");
        Map<Long, Integer> drops = new TreeMap<>();
        for (long f : toUnpin) {
            if (f != zeroPage) {
                drops.merge(f, 1, Integer::sum);
            }
        }
        drops.forEach((f, n) -> {
            if (pinCount(f) < n) {
                throw new KernelException(Errno.EINVAL, "frames",
                        String.format("unpin_user_pages: %#x holds %d pins, %d dropped", f, pinCount(f), n));
            }
        });
        drops.forEach((f, n) -> {
            int left = pins.merge(f, -n, Integer::sum);
            if (left == 0) {
                pins.remove(f);
                if (unmapped.remove(f)) {
                    frames.free(f);
                }
            }
        });
    }

    int pinCount(long frame) {
        return pins.getOrDefault(frame, 0);
    }

    /**
     * What the mmu_gather does with the frames a zap took out, after the TLB flush: each is freed unless pinned —
     * a pinned frame stays allocated, no longer the process's, until its last unpin. The zero page stays.
     */
    void release(List<Long> zapped) {
        for (long f : zapped) {
            if (f == zeroPage) {
                continue;
            }
            if (pins.containsKey(f)) {
                unmapped.add(f);
            } else {
                frames.free(f);
            }
        }
    }
}
