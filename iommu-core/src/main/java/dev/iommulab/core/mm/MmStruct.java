package dev.iommulab.core.mm;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A process address space ({@code struct mm_struct}): VMAs and the CPU page tables, x86-64 4-level, in
 * simulated physical memory. The IOMMU walks the same tables for the process's PASID, so what
 * {@link #handleMmFault} installs is what the device gets.
 *
 * <p>Anonymous memory as Linux does it: a read fault maps the shared zero page read-only; a write
 * fault allocates a zeroed private page (copy-on-write from the zero page).
 */
public final class MmStruct {

    private final String name;
    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final X86PageTable pageTable;
    private final long pgd;
    private final long zeroPage;
    private final TreeMap<Long, Vma> vmas = new TreeMap<>();
    private int users = 1;
    private long faults;

    /**
     * @param zeroPage the shared, never written zero frame (empty_zero_page)
     */
    public MmStruct(String name, FrameAllocator frames, long zeroPage) {
        this.name = Objects.requireNonNull(name, "name");
        this.frames = Objects.requireNonNull(frames, "frames");
        this.memory = frames.memory();
        this.pageTable = new X86PageTable(memory, 4);
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

    /** Counterpart of mmput(). */
    public void mmput() {
        if (users == 0) {
            throw new IllegalStateException("mmput on an mm without users");
        }
        users--;
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
        long pte = currentPte(page);
        try {
            if (write) {
                if (X86Pte.present(pte) && (pte & X86Pte.RW) != 0) {
                    return 0;
                }
                long frame = X86Pte.present(pte) && X86Pte.address(pte) != zeroPage
                        ? X86Pte.address(pte) : frames.allocate();
                install(vma, page, frame, true);
            } else if (!X86Pte.present(pte)) {
                install(vma, page, zeroPage, false);
            }
        } catch (KernelException e) {
            return VmFault.VM_FAULT_OOM;
        }
        return 0;
    }

    private long currentPte(long page) {
        long at = pageTable.leafEntryAddress(pgd, page);
        return at < 0 ? 0 : memory.readLong(at);
    }

    private void install(Vma vma, long page, long frame, boolean writable) {
        long flags = X86Pte.US | X86Pte.A | (writable ? X86Pte.RW | X86Pte.D : 0)
                | (vma.has(Vma.VM_EXEC) ? 0 : X86Pte.XD);
        pageTable.map4k(pgd, page, frame, flags, frames::allocate);
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
            WalkResult walk = pageTable.walk(pgd, va);
            if (walk instanceof WalkResult.Leaf leaf) {
                System.arraycopy(memory.read(leaf.pa(), chunk), 0, out, done, chunk);
            }
            done += chunk;
        }
        return out;
    }

    @Override
    public String toString() {
        return "mm(" + name + ")";
    }
}
