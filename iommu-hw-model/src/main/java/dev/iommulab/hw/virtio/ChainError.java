package dev.iommulab.hw.virtio;

/**
 * Why the device refused the next available chain. Each is an unrecoverable error of the driver: the device
 * reports it, sets {@link VirtioStatus#DEVICE_NEEDS_RESET} and stops using its queues until reset, as QEMU's
 * {@code virtio_error()} does (virtio 1.x §2.1.2, §2.7). The element is never returned to the used ring.
 *
 * <p>The messages are QEMU's {@code virtio_error()} texts where QEMU detects the case (in
 * {@code virtqueue_split_pop()} and its helpers); the two indirect rules QEMU does not check (it follows
 * {@code INDIRECT} only on the head and ignores it elsewhere) are the spec's driver requirements of §2.7.5.3.1.
 */
public enum ChainError {

    /** {@code avail.idx} moved more than the queue size past the device's position (QEMU virtqueue_num_heads()). */
    AVAIL_IDX_JUMP("Guest moved used index from %d to %d"),
    /** As many chains popped and not yet returned as the queue has entries (QEMU virtqueue_split_pop()). */
    SIZE_EXCEEDED("Virtqueue size exceeded"),
    /** The head index in {@code avail.ring} is not below the queue size (QEMU virtqueue_get_head()). */
    HEAD_OUT_OF_RANGE("Guest says index %d is available"),
    /** The available or used ring is not in guest memory (QEMU's region caches cannot be built). */
    RING_NOT_MAPPABLE("Region caches not initialized"),
    /** The descriptor table is not in guest memory (QEMU virtqueue_split_pop()). */
    DESC_TABLE_NOT_MAPPABLE("Cannot map descriptor ring"),
    /** An indirect descriptor whose length is zero or not a multiple of 16. */
    INDIRECT_BAD_SIZE("Invalid size for indirect buffer table"),
    /** An indirect table not in guest memory. */
    INDIRECT_NOT_MAPPABLE("Cannot map indirect buffer"),
    /** {@code INDIRECT} together with {@code NEXT} (spec §2.7.5.3.1; QEMU ignores the {@code NEXT}). */
    INDIRECT_WITH_NEXT("Indirect descriptor %d has NEXT set"),
    /** {@code INDIRECT} inside an indirect table (spec §2.7.5.3.1; QEMU maps it as a plain buffer). */
    NESTED_INDIRECT("Indirect descriptor %d inside an indirect table"),
    /** A device-readable descriptor after a device-writable one (QEMU virtqueue_split_pop()). */
    WRONG_ORDER("Incorrect order for descriptors"),
    /** A buffer of length zero (QEMU virtqueue_map_desc()). */
    ZERO_SIZED_BUFFER("virtio: zero sized buffers are not allowed"),
    /** A buffer not (entirely) in guest memory (QEMU virtqueue_map_desc()). */
    BOGUS_DESCRIPTOR("virtio: bogus descriptor or out of resources"),
    /** More descriptors in the chain than the table has: a loop (QEMU virtqueue_split_pop()). */
    LOOPED_DESCRIPTOR("Looped descriptor"),
    /** {@code next} not below the table's size (QEMU virtqueue_split_read_next_desc()). */
    NEXT_OUT_OF_RANGE("Desc next is %d");

    private final String format;

    ChainError(String format) {
        this.format = format;
    }

    /** The message template, with {@code %d} where QEMU prints an index. */
    public String format() {
        return format;
    }

    String message(Object... args) {
        return String.format(format, args);
    }
}
