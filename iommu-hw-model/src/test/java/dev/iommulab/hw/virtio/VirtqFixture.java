package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;

/** Guest memory with one queue laid out at {@link #QUEUE_BASE}, and raw writers for building rings byte by byte. */
final class VirtqFixture {

    static final long MEMORY_BYTES = 1 << 20;
    static final long QUEUE_BASE = 0x1000;
    static final long INDIRECT_AREA = 0x8_0000;
    static final long DATA = 0x4_0000;

    final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES);
    final VirtqueueLayout layout;

    VirtqFixture(int size) {
        this.layout = VirtqueueLayout.contiguous(size, QUEUE_BASE);
    }

    /** A {@code struct virtq_desc} written field by field at {@code pa}. */
    void rawDesc(long pa, long addr, int len, int flags, int next) {
        memory.writeLong(pa, addr);
        memory.writeInt(pa + 8, len);
        memory.write(pa + 12, new byte[] {(byte) flags, (byte) (flags >>> 8), (byte) next, (byte) (next >>> 8)});
    }

    /** Descriptor {@code index} of the queue's table. */
    void rawDesc(int index, long addr, int len, int flags, int next) {
        rawDesc(layout.descAddr() + 16L * index, addr, len, flags, next);
    }

    /** {@code avail.ring[slot] = head} and {@code avail.idx = idx}. */
    void publish(int slot, int head, int idx) {
        u16(layout.availAddr() + 4 + 2L * slot, head);
        u16(layout.availAddr() + 2, idx);
    }

    void u16(long pa, int value) {
        memory.write(pa, new byte[] {(byte) value, (byte) (value >>> 8)});
    }

    int u16(long pa) {
        byte[] b = memory.read(pa, 2);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    /** The whole used ring as bytes. */
    byte[] usedRing() {
        return memory.read(layout.usedAddr(), (int) VirtqueueLayout.usedRingBytes(layout.size()));
    }

    int usedIdx() {
        return u16(layout.usedAddr() + 2);
    }

    int availIdx() {
        return u16(layout.availAddr() + 2);
    }

    /** {@code used.ring[slot].id} and {@code .len}. */
    long[] usedElem(int slot) {
        long pa = layout.usedAddr() + 4 + 8L * slot;
        return new long[] {Integer.toUnsignedLong(memory.readInt(pa)), Integer.toUnsignedLong(memory.readInt(pa + 4))};
    }
}
