package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * One {@code struct virtq_desc} (virtio 1.x §2.7.5 The Virtqueue Descriptor Table): {@code addr} le64 at 0,
 * {@code len} le32 at 8, {@code flags} le16 at 12, {@code next} le16 at 14.
 *
 * @param addr  guest-physical address of the buffer (or of an indirect table)
 * @param len   length in bytes, unsigned 32-bit
 * @param flags {@code NEXT}, {@code WRITE}, {@code INDIRECT}
 * @param next  index of the next descriptor when {@code NEXT} is set
 */
record Descriptor(long addr, long len, int flags, int next) {

    static Descriptor read(PhysicalMemory memory, long pa) {
        long addr = memory.readLong(pa);
        long word = memory.readLong(pa + 8);
        return new Descriptor(addr, word & 0xffff_ffffL, (int) (word >>> 32) & 0xffff, (int) (word >>> 48) & 0xffff);
    }

    void write(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, addr);
        memory.writeLong(pa + 8, (len & 0xffff_ffffL) | (long) (flags & 0xffff) << 32 | (long) (next & 0xffff) << 48);
    }

    boolean has(int flag) {
        return (flags & flag) != 0;
    }
}
