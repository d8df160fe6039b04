package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * Constants of the split virtqueue (virtio 1.x §2.7 Split Virtqueues, {@code struct virtq_desc},
 * {@code struct virtq_avail}, {@code struct virtq_used}) and the little-endian 16-bit accesses its rings need.
 */
final class Virtq {

    /** Bytes of one {@code struct virtq_desc}: addr le64, len le32, flags le16, next le16. */
    static final int DESC_SIZE = 16;
    /** Bytes of one {@code struct virtq_used_elem}: id le32, len le32. */
    static final int USED_ELEM_SIZE = 8;

    /** {@code VIRTQ_DESC_F_NEXT}: the chain continues at {@code next}. */
    static final int DESC_F_NEXT = 1;
    /** {@code VIRTQ_DESC_F_WRITE}: the buffer is device-writable (else device-readable). */
    static final int DESC_F_WRITE = 2;
    /** {@code VIRTQ_DESC_F_INDIRECT}: the buffer holds a table of descriptors. */
    static final int DESC_F_INDIRECT = 4;

    /** {@code VIRTQ_AVAIL_F_NO_INTERRUPT} in {@code avail.flags}: the driver asks not to be interrupted. */
    static final int AVAIL_F_NO_INTERRUPT = 1;
    /** {@code VIRTQ_USED_F_NO_NOTIFY} in {@code used.flags}: the device asks not to be kicked. */
    static final int USED_F_NO_NOTIFY = 1;

    /** Largest queue size of a split virtqueue. */
    static final int MAX_SIZE = 32768;

    /** Minimal alignment of the descriptor table, the available ring and the used ring (§2.7 "Virtqueues"). */
    static final int DESC_ALIGN = 16;
    static final int AVAIL_ALIGN = 2;
    static final int USED_ALIGN = 4;

    private Virtq() {
    }

    /**
     * Whether an event index was crossed when an index moved from {@code old} to {@code next}: the
     * {@code virtq_need_event()} of the spec's {@code virtio-queue.h}. Counterpart of vring_need_event().
     */
    static boolean needEvent(int event, int next, int old) {
        return ((next - event - 1) & 0xffff) < ((next - old) & 0xffff);
    }

    static int readU16(PhysicalMemory memory, long pa) {
        byte[] b = memory.read(pa, 2);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    static void writeU16(PhysicalMemory memory, long pa, int value) {
        memory.write(pa, new byte[] {(byte) value, (byte) (value >>> 8)});
    }
}
