package dev.iommulab.core.kernel;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The page allocator: hands out zeroed 4 KiB frames of physical memory above a reserved base. A frame given
 * back with {@link #free} is handed out again by {@link #allocate()} before any new one, lowest address first
 * (deterministic). An injected failure at site {@code frame} makes an allocation fail with ENOMEM.
 */
public final class FrameAllocator {

    public static final String SITE = "frame";

    private final PhysicalMemory memory;
    private final FailureInjector failures;
    private final long first;
    private final PageSet freed = new PageSet();
    private long next;

    public FrameAllocator(PhysicalMemory memory, long firstFrame, FailureInjector failures) {
        if ((firstFrame & 0xfff) != 0 || !memory.contains(firstFrame, 0)) {
            throw new IllegalArgumentException("firstFrame must be page aligned and inside memory");
        }
        this.memory = memory;
        this.failures = failures;
        this.first = firstFrame;
        this.next = firstFrame;
    }

    /** A zeroed frame; throws ENOMEM when memory is exhausted or a failure is injected. */
    public long allocate() {
        if (failures.shouldFail(SITE) || freed.isEmpty() && !memory.contains(next, PhysicalMemory.PAGE_SIZE)) {
            throw new KernelException(Errno.ENOMEM, "frame", "out of physical memory");
        }
        long frame = freed.isEmpty() ? fresh() : freed.pollFirst();
        memory.zero(frame, PhysicalMemory.PAGE_SIZE);
        return frame;
    }

    private long fresh() {
        long frame = next;
        next += PhysicalMemory.PAGE_SIZE;
        return frame;
    }

    /**
     * Allocates {@code pages} physically contiguous zeroed frames (never from freed frames) and returns the
     * first.
     */
    public long allocateContiguous(int pages) {
        for (int i = 0; i < pages; i++) {
            if (failures.shouldFail(SITE) || !memory.contains(next + (long) i * PhysicalMemory.PAGE_SIZE,
                    PhysicalMemory.PAGE_SIZE)) {
                throw new KernelException(Errno.ENOMEM, "frame", "out of physical memory");
            }
        }
        long firstOfRun = next;
        next += (long) pages * PhysicalMemory.PAGE_SIZE;
        memory.zero(firstOfRun, (long) pages * PhysicalMemory.PAGE_SIZE);
        return firstOfRun;
    }

    /**
     * {@link #allocateContiguous(int)} starting at a multiple of {@code alignment} (a power of two, at least a
     * page); the frames skipped to get there are free for {@link #allocate()}.
     */
    public long allocateContiguous(int pages, long alignment) {
        if (alignment < PhysicalMemory.PAGE_SIZE || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two of at least a page: " + alignment);
        }
        long start = (next + alignment - 1) & -alignment;
        if (!memory.contains(start, (long) pages * PhysicalMemory.PAGE_SIZE)) {
            throw new KernelException(Errno.ENOMEM, "frame", "out of physical memory");
        }
        while (next < start) {
            freed.add(fresh());
        }
        return allocateContiguous(pages);
    }

    /**
     * Counterpart of __free_page() for a frame from {@link #allocate()}: it may be handed out again.
     *
     * @throws KernelException EINVAL for a frame that is not allocated (never handed out, or freed already)
     */
    public void free(long frame) {
        if ((frame & 0xfff) != 0 || frame < first || frame >= next || freed.contains(frame)) {
            throw new KernelException(Errno.EINVAL, "frame", String.format("%#x is not an allocated frame", frame));
        }
        freed.add(frame);
    }

    /** Frames handed out and not freed. */
    public long allocatedFrames() {
        return (next - first) / PhysicalMemory.PAGE_SIZE - freed.size();
    }

    public PhysicalMemory memory() {
        return memory;
    }
}
