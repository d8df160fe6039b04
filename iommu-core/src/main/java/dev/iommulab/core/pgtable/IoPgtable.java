package dev.iommulab.core.pgtable;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One I/O page table in simulated memory, the counterpart of {@code struct io_pgtable_ops}
 * (drivers/iommu/io-pgtable*.c, and of the generic_pt page tables that replace them): {@code map_pages},
 * {@code unmap_pages} and {@code iova_to_phys} over a hardware format ({@link IoPgtableFormat}). Table pages
 * come from the {@link FrameAllocator}; leaves are written by the hardware model's table classes, so the
 * bytes are those the IOMMU walks.
 *
 * <p>Rules, as io-pgtable keeps them: a leaf is never written over a present leaf or table (-EEXIST, "unmap
 * first"); an unmap never splits a leaf (it removes a whole large page when the IOVA is aligned to it and
 * stops otherwise). Missing tables for one leaf are allocated before any of them is linked, so a failed
 * allocation leaves no half-built path behind. <b>Lab choice:</b> an unmap frees every table it leaves empty
 * (the kernel frees only tables its range covers entirely), so a map that fails half-way and is unmapped
 * again leaves the tables exactly as they were. Freed tables are not given back at once: they are reported to
 * the {@link UnmapSink} and returned by {@link #putPages} once the IOTLB is synced.
 */
public final class IoPgtable {

    /** Where {@link #unmapPages} reports what it removed ({@code iommu_iotlb_gather} and its freelist). */
    public interface UnmapSink {

        /** A leaf of {@code size} at {@code iova} is gone (iommu_iotlb_gather_add_page()). */
        void page(long iova, long size);

        /** A table page left empty was unlinked; free it after the IOTLB sync (the gather's freelist). */
        void freeTable(long frame);
    }

    /** What {@link #mapPages} did: {@code bytes} mapped from the start, and the error that stopped it, if any. */
    public record Mapped(long bytes, KernelException error) {

        public boolean ok() {
            return error == null;
        }
    }

    private final IoPgtableFormat format;
    private final PtFormat fmt;
    private final FrameAllocator frames;
    private final PhysicalMemory memory;
    private final long root;

    private IoPgtable(IoPgtableFormat format, FrameAllocator frames, boolean hardwareDirty) {
        this.format = format;
        this.frames = frames;
        this.memory = frames.memory();
        this.fmt = PtFormat.of(format, memory, hardwareDirty);
        this.root = frames.allocate();
    }

    /**
     * Counterpart of alloc_io_pgtable_ops(): an empty table of {@code format}, its root page allocated.
     * {@code hardwareDirty}: the IOMMU sets A/D itself (RISC-V {@code AMO_HWAD}), so writable leaves are
     * written without D.
     *
     * @throws KernelException ENOMEM when the root page cannot be allocated
     */
    public static IoPgtable alloc(IoPgtableFormat format, FrameAllocator frames, boolean hardwareDirty) {
        return new IoPgtable(Objects.requireNonNull(format, "format"), Objects.requireNonNull(frames, "frames"),
                hardwareDirty);
    }

    public IoPgtableFormat format() {
        return format;
    }

    /** Physical address of the root table (what the driver writes into FLPTPTR, SLPTPTR or fsc). */
    public long root() {
        return root;
    }

    public long pgsizeBitmap() {
        return format.pgsizeBitmap();
    }

    /**
     * Counterpart of {@code map_pages}: maps {@code pgcount} pages of {@code pgsize} from {@code iova} to
     * {@code paddr} with {@code prot}, one leaf each. Stops at the first failure and says how far it got.
     * Errors: EINVAL for a size the format lacks, a misaligned address or a prot the format refuses; EFAULT
     * for IOVAs beyond the format's space (checked for the whole range first, as intel_iommu_map() does);
     * EEXIST where something is mapped already; ENOMEM when a table page cannot be allocated.
     */
    public Mapped mapPages(long iova, long paddr, long pgsize, long pgcount, int prot) {
        if ((format.pgsizeBitmap() & pgsize) == 0 || Long.bitCount(pgsize) != 1 || pgcount < 0) {
            return failed(0, Errno.EINVAL, "pgsize", String.format("%#x x %d is not a page size of %s", pgsize,
                    pgcount, format));
        }
        if (((iova | paddr) & (pgsize - 1)) != 0) {
            return failed(0, Errno.EINVAL, "iova", String.format("iova %#x / pa %#x not aligned to %#x", iova, paddr,
                    pgsize));
        }
        String bad = fmt.badProt(prot);
        if (bad != null) {
            return failed(0, Errno.EINVAL, "prot", bad);
        }
        long limit = 1L << format.iovaBits();
        if (iova < 0 || pgcount > (limit - iova) / pgsize) {
            return failed(0, Errno.EFAULT, "iova", String.format("%#x + %d x %#x is beyond the %d-bit space of %s",
                    iova, pgcount, pgsize, format.iovaBits(), format));
        }
        int leafLevel = Long.numberOfTrailingZeros(pgsize) / 9 - 1;
        for (long i = 0; i < pgcount; i++) {
            KernelException e = mapOne(iova + i * pgsize, paddr + i * pgsize, pgsize, leafLevel, prot);
            if (e != null) {
                return new Mapped(i * pgsize, e);
            }
        }
        return new Mapped(pgcount * pgsize, null);
    }

    private static Mapped failed(long bytes, Errno errno, String arg, String message) {
        return new Mapped(bytes, new KernelException(errno, arg, message));
    }

    private KernelException mapOne(long iova, long pa, long size, int leafLevel, int prot) {
        long table = root;
        int missing = 0;
        for (int level = fmt.levels() - 1; level > leafLevel; level--) {
            long pte = memory.readLong(table + 8L * fmt.index(iova, level));
            if (!fmt.present(pte)) {
                missing = level - leafLevel;
                break;
            }
            if (!fmt.isTable(pte, level)) {
                return new KernelException(Errno.EEXIST, "iova", String.format("%#x lies in a %#x page", iova,
                        PtFormat.span(level)));
            }
            table = fmt.address(pte);
        }
        if (missing == 0 && fmt.present(memory.readLong(table + 8L * fmt.index(iova, leafLevel)))) {
            return new KernelException(Errno.EEXIST, "iova", String.format("%#x is mapped already", iova));
        }
        ArrayDeque<Long> fresh = new ArrayDeque<>();
        try {
            for (int i = 0; i < missing; i++) {
                fresh.add(frames.allocate());
            }
        } catch (KernelException e) {
            fresh.forEach(frames::free);
            return e;
        }
        fmt.writeLeaf(root, iova, pa, size, prot, fresh::removeFirst);
        return null;
    }

    /**
     * Counterpart of {@code unmap_pages}: removes leaves from {@code iova} until {@code pgsize * pgcount} bytes
     * are gone, reporting each to {@code sink} and unlinking (and reporting) tables left empty. A leaf larger
     * than asked goes whole when {@code iova} is aligned to it (so more than asked may be unmapped); the walk
     * stops at a hole or at a leaf {@code iova} is not aligned to.
     *
     * @return the bytes unmapped
     */
    public long unmapPages(long iova, long pgsize, long pgcount, UnmapSink sink) {
        long size = pgsize * pgcount;
        long unmapped = 0;
        long at = iova;
        while (unmapped < size) {
            long[] path = new long[fmt.levels()];
            int level = findLeaf(at, path);
            if (level < 0 || (at & (PtFormat.span(level) - 1)) != 0) {
                return unmapped;
            }
            long span = PtFormat.span(level);
            memory.writeLong(path[level] + 8L * fmt.index(at, level), 0);
            sink.page(at, span);
            prune(at, level, path, sink);
            at += span;
            unmapped += span;
        }
        return unmapped;
    }

    /** The level of the leaf mapping {@code iova}, filling {@code path[l]} with the table of level l; -1 if none. */
    private int findLeaf(long iova, long[] path) {
        if (iova < 0 || iova >>> format.iovaBits() != 0) {
            return -1;
        }
        long table = root;
        for (int level = fmt.levels() - 1; level >= 0; level--) {
            path[level] = table;
            long pte = memory.readLong(table + 8L * fmt.index(iova, level));
            if (!fmt.present(pte)) {
                return -1;
            }
            if (!fmt.isTable(pte, level)) {
                return level;
            }
            table = fmt.address(pte);
        }
        return -1;
    }

    private void prune(long iova, int fromLevel, long[] path, UnmapSink sink) {
        for (int level = fromLevel; level < fmt.levels() - 1; level++) {
            if (!empty(path[level])) {
                return;
            }
            memory.writeLong(path[level + 1] + 8L * fmt.index(iova, level + 1), 0);
            sink.freeTable(path[level]);
        }
    }

    private boolean empty(long table) {
        return memory.isZero(table, PhysicalMemory.PAGE_SIZE);
    }

    /** Counterpart of {@code iova_to_phys}: the physical address {@code iova} maps to, or 0 when unmapped. */
    public long iovaToPhys(long iova) {
        long[] path = new long[fmt.levels()];
        int level = findLeaf(iova, path);
        if (level < 0) {
            return 0;
        }
        long span = PtFormat.span(level);
        long pte = memory.readLong(path[level] + 8L * fmt.index(iova, level));
        return (fmt.address(pte) & -span) | (iova & (span - 1));
    }

    /** Counterpart of iommu_put_pages_list(): gives table pages unlinked by an unmap back to the allocator. */
    public void putPages(List<Long> tables) {
        tables.forEach(frames::free);
    }

    /** The table pages of this page table, root first, then depth first in IOVA order. */
    public List<Long> tablePages() {
        List<Long> pages = new ArrayList<>();
        collect(root, fmt.levels() - 1, pages);
        return pages;
    }

    private void collect(long table, int level, List<Long> pages) {
        pages.add(table);
        for (int i = 0; i < 512 && level > 0; i++) {
            long pte = memory.readLong(table + 8L * i);
            if (fmt.isTable(pte, level)) {
                collect(fmt.address(pte), level - 1, pages);
            }
        }
    }

    /** Counterpart of free_io_pgtable_ops(): frees every table page, the root included. */
    public void free() {
        tablePages().forEach(frames::free);
    }
}
