package dev.iommulab.hw.mem;

import java.util.HashMap;
import java.util.Map;

/**
 * The machine's physical memory: a sparse array of 4 KiB frames, little-endian, zero where never
 * written. Both the CPU side (drivers writing tables, the mm writing page tables) and the hardware
 * (IOMMU walks, device DMA) read and write these bytes.
 *
 * <p>Accesses outside {@code [0, size)} are programming errors of the caller and throw; hardware
 * models check {@link #contains(long, long)} first and report what the hardware would (an abort).
 */
public final class PhysicalMemory {

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private final long size;
    private final Map<Long, byte[]> frames = new HashMap<>();

    public PhysicalMemory(long size) {
        if (size <= 0 || (size & PAGE_MASK) != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 4096: " + size);
        }
        this.size = size;
    }

    public long size() {
        return size;
    }

    /** Whether {@code [pa, pa + length)} lies inside memory. */
    public boolean contains(long pa, long length) {
        return pa >= 0 && length >= 0 && pa <= size - length;
    }

    public long readLong(long pa) {
        check(pa, 8);
        if ((pa & PAGE_MASK) <= PAGE_SIZE - 8) {
            byte[] frame = frames.get(pa >>> PAGE_SHIFT);
            if (frame == null) {
                return 0;
            }
            int off = (int) (pa & PAGE_MASK);
            long value = 0;
            for (int i = 7; i >= 0; i--) {
                value = (value << 8) | (frame[off + i] & 0xffL);
            }
            return value;
        }
        byte[] bytes = read(pa, 8);
        long value = 0;
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | (bytes[i] & 0xffL);
        }
        return value;
    }

    public void writeLong(long pa, long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        write(pa, bytes);
    }

    public int readInt(long pa) {
        byte[] bytes = read(pa, 4);
        return (bytes[0] & 0xff) | (bytes[1] & 0xff) << 8 | (bytes[2] & 0xff) << 16 | (bytes[3] & 0xff) << 24;
    }

    public void writeInt(long pa, int value) {
        write(pa, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
    }

    /** Copies {@code length} bytes starting at {@code pa}. */
    public byte[] read(long pa, int length) {
        check(pa, length);
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long addr = pa + done;
            int off = (int) (addr & PAGE_MASK);
            int chunk = Math.min(length - done, PAGE_SIZE - off);
            byte[] frame = frames.get(addr >>> PAGE_SHIFT);
            if (frame != null) {
                System.arraycopy(frame, off, out, done, chunk);
            }
            done += chunk;
        }
        return out;
    }

    /** Writes {@code data} starting at {@code pa}. */
    public void write(long pa, byte[] data) {
        check(pa, data.length);
        int done = 0;
        while (done < data.length) {
            long addr = pa + done;
            int off = (int) (addr & PAGE_MASK);
            int chunk = Math.min(data.length - done, PAGE_SIZE - off);
            byte[] frame = frames.computeIfAbsent(addr >>> PAGE_SHIFT, k -> new byte[PAGE_SIZE]);
            System.arraycopy(data, done, frame, off, chunk);
            done += chunk;
        }
    }

    /** Sets {@code length} bytes starting at {@code pa} to zero. */
    public void zero(long pa, long length) {
        check(pa, length);
        long done = 0;
        while (done < length) {
            long addr = pa + done;
            int off = (int) (addr & PAGE_MASK);
            int chunk = (int) Math.min(length - done, PAGE_SIZE - off);
            byte[] frame = frames.get(addr >>> PAGE_SHIFT);
            if (frame != null) {
                java.util.Arrays.fill(frame, off, off + chunk, (byte) 0);
            }
            done += chunk;
        }
    }

    private void check(long pa, long length) {
        if (!contains(pa, length)) {
            throw new IllegalArgumentException(String.format(
                    "physical access [%#x, +%d) outside memory of %d bytes", pa, length, size));
        }
    }
}
