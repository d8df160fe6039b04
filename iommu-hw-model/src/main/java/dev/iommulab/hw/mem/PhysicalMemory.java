package dev.iommulab.hw.mem;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The machine's physical memory: a sparse array of 4 KiB frames, little-endian, zero where never
 * written. Both the CPU side (drivers writing tables, the mm writing page tables) and the hardware
 * (IOMMU walks, device DMA) read and write these bytes.
 *
 * <p>Accesses outside {@code [0, size)} are programming errors of the caller and throw; hardware
 * models check {@link #contains(long, long)} first and report what the hardware would (an abort).
 *
 * <p>Frames are found through two arrays (2 MiB chunks of 512 frames), allocated on first write, so a
 * page-table read costs an index and an 8-byte load: every simulated walk does several of them.
 */
public final class PhysicalMemory {

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private static final int CHUNK_SHIFT = 9;
    private static final int CHUNK_FRAMES = 1 << CHUNK_SHIFT;
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private final long size;
    private final byte[][][] chunks;

    public PhysicalMemory(long size) {
        if (size <= 0 || (size & PAGE_MASK) != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 4096: " + size);
        }
        long frames = size >>> PAGE_SHIFT;
        long chunkCount = (frames + CHUNK_FRAMES - 1) >>> CHUNK_SHIFT;
        if (chunkCount > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("memory too large: " + size);
        }
        this.size = size;
        this.chunks = new byte[(int) chunkCount][][];
    }

    /** The frame holding {@code pa}, or null when it was never written. */
    private byte[] frame(long pa) {
        long frame = pa >>> PAGE_SHIFT;
        byte[][] chunk = chunks[(int) (frame >>> CHUNK_SHIFT)];
        return chunk == null ? null : chunk[(int) (frame & (CHUNK_FRAMES - 1))];
    }

    private byte[] frameForWrite(long pa) {
        long frame = pa >>> PAGE_SHIFT;
        int c = (int) (frame >>> CHUNK_SHIFT);
        byte[][] chunk = chunks[c];
        if (chunk == null) {
            chunk = new byte[CHUNK_FRAMES][];
            chunks[c] = chunk;
        }
        int i = (int) (frame & (CHUNK_FRAMES - 1));
        byte[] f = chunk[i];
        if (f == null) {
            f = new byte[PAGE_SIZE];
            chunk[i] = f;
        }
        return f;
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
        int off = (int) (pa & PAGE_MASK);
        if (off <= PAGE_SIZE - 8) {
            byte[] frame = frame(pa);
            return frame == null ? 0 : (long) LONG_LE.get(frame, off);
        }
        byte[] bytes = read(pa, 8);
        return (long) LONG_LE.get(bytes, 0);
    }

    public void writeLong(long pa, long value) {
        check(pa, 8);
        int off = (int) (pa & PAGE_MASK);
        if (off <= PAGE_SIZE - 8) {
            LONG_LE.set(frameForWrite(pa), off, value);
            return;
        }
        byte[] bytes = new byte[8];
        LONG_LE.set(bytes, 0, value);
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
            byte[] frame = frame(addr);
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
            byte[] frame = frameForWrite(addr);
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
            byte[] frame = frame(addr);
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
