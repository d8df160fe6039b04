package dev.iommulab.core.kernel;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The page allocator: hands out zeroed 4 KiB frames of physical memory above a reserved base. Frames are
 * never reused in this version (freeing arrives with unmap). An injected failure at site {@code frame}
 * makes {@link #allocate()} fail with ENOMEM.
 */
public final class FrameAllocator {

    public static final String SITE = "frame";

    private final PhysicalMemory memory;
    private final FailureInjector failures;
    private long next;

    public FrameAllocator(PhysicalMemory memory, long firstFrame, FailureInjector failures) {
        if ((firstFrame & 0xfff) != 0 || !memory.contains(firstFrame, 0)) {
            throw new IllegalArgumentException("firstFrame must be page aligned and inside memory");
        }
        this.memory = memory;
        this.failures = failures;
        this.next = firstFrame;
    }

    /** A zeroed frame; throws ENOMEM when memory is exhausted or a failure is injected. */
    public long allocate() {
        if (failures.shouldFail(SITE) || !memory.contains(next, PhysicalMemory.PAGE_SIZE)) {
            throw new KernelException(Errno.ENOMEM, "frame", "out of physical memory");
        }
        long frame = next;
        next += PhysicalMemory.PAGE_SIZE;
        memory.zero(frame, PhysicalMemory.PAGE_SIZE);
        return frame;
    }

    /** Allocates {@code pages} physically contiguous zeroed frames and returns the first. */
    public long allocateContiguous(int pages) {
        long first = allocate();
        for (int i = 1; i < pages; i++) {
            allocate();
        }
        return first;
    }

    public PhysicalMemory memory() {
        return memory;
    }
}
