package dev.iommulab.hw.virtio;

/**
 * Where the three parts of a split virtqueue of {@code size} entries lie in guest memory (virtio 1.x §2.7 Split
 * Virtqueues): the descriptor table (16·size bytes), the available ring or driver area ({@code flags},
 * {@code idx}, {@code ring[size]}, {@code used_event}: 6 + 2·size bytes) and the used ring or device area
 * ({@code flags}, {@code idx}, {@code ring[size]} of {@code {id, len}}, {@code avail_event}: 6 + 8·size bytes).
 *
 * <p>The size is a power of two up to 32768, as a transport accepts it; anything else is the caller's error.
 * Alignment is the driver's obligation and is checked by {@link VirtqueueDriver}; the device reads whatever
 * addresses it was given, as QEMU does.
 *
 * @param size      entries (Queue Size)
 * @param descAddr  guest-physical address of the descriptor table
 * @param availAddr guest-physical address of the available ring
 * @param usedAddr  guest-physical address of the used ring
 */
public record VirtqueueLayout(int size, long descAddr, long availAddr, long usedAddr) {

    public VirtqueueLayout {
        if (size < 1 || size > Virtq.MAX_SIZE || Integer.bitCount(size) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two in [1, 32768]: " + size);
        }
    }

    /** The three parts back to back from {@code base} (aligned to 16), each at its minimal alignment. */
    public static VirtqueueLayout contiguous(int size, long base) {
        long desc = align(base, Virtq.DESC_ALIGN);
        long avail = align(desc + descTableBytes(size), Virtq.AVAIL_ALIGN);
        long used = align(avail + availRingBytes(size), Virtq.USED_ALIGN);
        return new VirtqueueLayout(size, desc, avail, used);
    }

    /** Bytes of the descriptor table. */
    public static long descTableBytes(int size) {
        return (long) Virtq.DESC_SIZE * size;
    }

    /** Bytes of the available ring, {@code used_event} included. */
    public static long availRingBytes(int size) {
        return 6L + 2L * size;
    }

    /** Bytes of the used ring, {@code avail_event} included. */
    public static long usedRingBytes(int size) {
        return 6L + (long) Virtq.USED_ELEM_SIZE * size;
    }

    /** First byte after the used ring. */
    public long end() {
        return usedAddr + usedRingBytes(size);
    }

    /** Whether each part starts at its minimal alignment (16, 2, 4). */
    public boolean aligned() {
        return descAddr % Virtq.DESC_ALIGN == 0 && availAddr % Virtq.AVAIL_ALIGN == 0
                && usedAddr % Virtq.USED_ALIGN == 0;
    }

    long desc(int index) {
        return descAddr + (long) Virtq.DESC_SIZE * index;
    }

    long availFlags() {
        return availAddr;
    }

    long availIdx() {
        return availAddr + 2;
    }

    /** {@code avail.ring[idx % size]}. */
    long availRing(int idx) {
        return availAddr + 4 + 2L * (idx & (size - 1));
    }

    long usedEvent() {
        return availAddr + 4 + 2L * size;
    }

    long usedFlags() {
        return usedAddr;
    }

    long usedIdx() {
        return usedAddr + 2;
    }

    /** {@code used.ring[idx % size]}. */
    long usedElem(int idx) {
        return usedAddr + 4 + (long) Virtq.USED_ELEM_SIZE * (idx & (size - 1));
    }

    long availEvent() {
        return usedAddr + 4 + (long) Virtq.USED_ELEM_SIZE * size;
    }

    private static long align(long addr, int alignment) {
        return (addr + alignment - 1) & -alignment;
    }
}
