package dev.iommulab.core.dma;

import java.util.List;

/**
 * {@code struct iova_fq} of drivers/iommu/dma-iommu.c: a ring of {@code fq_size} slots (a power of two) holding
 * unmapped IOVA ranges whose IOTLB entries may still be live, each with the table pages its unmap unlinked and
 * the flush counter at the time it was queued. It is full when the tail is one slot behind the head, so it holds
 * {@code fq_size - 1} entries.
 */
final class FlushQueue {

    /** {@code struct iova_fq_entry}. */
    record Entry(long iovaPfn, long pages, List<Long> freelist, long counter) {
    }

    private final Entry[] entries;
    private final int modMask;
    private int head;
    private int tail;

    FlushQueue(int size) {
        if (size < 2 || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("flush queue size must be a power of two >= 2: " + size);
        }
        this.entries = new Entry[size];
        this.modMask = size - 1;
    }

    /** fq_full(). */
    boolean full() {
        return ((tail + 1) & modMask) == head;
    }

    boolean isEmpty() {
        return head == tail;
    }

    /** Entries waiting. */
    int depth() {
        return (tail - head) & modMask;
    }

    /** fq_ring_add() and the entry's fields, as queue_iova() writes them. */
    void add(Entry entry) {
        entries[tail] = entry;
        tail = (tail + 1) & modMask;
    }

    /** The oldest entry, or null when empty. */
    Entry first() {
        return isEmpty() ? null : entries[head];
    }

    /** Drops the oldest entry (fq_ring_free_locked() advancing the head). */
    void removeFirst() {
        entries[head] = null;
        head = (head + 1) & modMask;
    }
}
