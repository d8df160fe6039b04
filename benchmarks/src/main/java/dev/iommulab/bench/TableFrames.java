package dev.iommulab.bench;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * Page-table frames for a benchmark that builds its tables by hand: 4 KiB frames handed out one after the other from
 * {@code first}, up to {@code limit} (where the benchmark's data pages begin). Nothing is ever freed.
 */
final class TableFrames {

    private final long limit;
    private long next;

    TableFrames(long first, long limit) {
        this.next = first;
        this.limit = limit;
    }

    /** The next frame; a benchmark whose tables outgrow the area is broken. */
    long allocate() {
        long frame = next;
        next += PhysicalMemory.PAGE_SIZE;
        if (next > limit) {
            throw new IllegalStateException("page-table area exhausted");
        }
        return frame;
    }
}
