package dev.iommulab.hw.mem;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The machine's physical memory: a sparse array of 4 KiB frames, little-endian, zero where never
 * written. Both the CPU side (drivers writing tables, the mm writing page tables) and the hardware
 * (IOMMU walks, device DMA) read and write these bytes.
 *
 * <p>Accesses outside {@code [0, size)} are programming errors of the caller and throw; hardware
 * models check {@link #contains(long, long)} first and report what the hardware would (an abort).
 *
 * <p>The bytes live in 2 MiB chunks of 512 frames, each one array allocated on the first write anywhere in it, so a
 * page-table read costs an index and an 8-byte load (every simulated walk does several), and a run that touches a
 * gigabyte holds 512 arrays rather than a quarter of a million: the JVM's collector allocates such arrays outside its
 * nursery (the launcher's {@code -XX:PretenureSizeThreshold}) instead of copying every frame a run touches.
 */
public final class PhysicalMemory {

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private static final int CHUNK_SHIFT = 21;
    private static final int CHUNK_BYTES = 1 << CHUNK_SHIFT;
    private static final long CHUNK_MASK = CHUNK_BYTES - 1;
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class,
            ByteOrder.LITTLE_ENDIAN);

    /** A frame of zeros, to compare with. */
    private static final byte[] ZERO_PAGE = new byte[PAGE_SIZE];

    private final long size;
    /** Where this memory's first chunk is in {@link #chunks}: 0, or the first chunk of a {@link #window}. */
    private final int chunkBase;
    /** Bytes of the whole memory the chunks belong to (a window's root). */
    private final long rootSize;
    private final byte[][] chunks;
    /**
     * Per chunk, one bit per frame that may hold a byte other than zero (written since it was last zeroed whole):
     * {@link #zero} clears only those, so handing out a frame that was never written costs nothing (the page
     * allocator zeroes every frame it hands out).
     */
    private final long[][] written;

    public PhysicalMemory(long size) {
        if (size <= 0 || (size & PAGE_MASK) != 0) {
            throw new IllegalArgumentException("size must be a positive multiple of 4096: " + size);
        }
        long chunkCount = (size + CHUNK_MASK) >>> CHUNK_SHIFT;
        if (chunkCount > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("memory too large: " + size);
        }
        this.size = size;
        this.chunkBase = 0;
        this.rootSize = size;
        this.chunks = new byte[(int) chunkCount][];
        this.written = new long[(int) chunkCount][];
    }

    private PhysicalMemory(PhysicalMemory root, long base, long size) {
        this.size = size;
        this.chunkBase = root.chunkBase + (int) (base >>> CHUNK_SHIFT);
        this.rootSize = root.rootSize;
        this.chunks = root.chunks;
        this.written = root.written;
    }

    /**
     * The memory {@code [base, base + size)} of this one seen as a memory of its own, from address 0: the same bytes,
     * read and written through either (a guest's physical memory, backed by host frames).
     *
     * @throws IllegalArgumentException when {@code base} is not 2 MiB aligned, {@code size} not a positive multiple
     *                                  of 4 KiB, or the range not inside this memory
     */
    public PhysicalMemory window(long base, long size) {
        if ((base & CHUNK_MASK) != 0 || size <= 0 || (size & PAGE_MASK) != 0 || !contains(base, size)) {
            throw new IllegalArgumentException(String.format("no window of %#x bytes at %#x: 2 MiB aligned, inside"
                    + " memory of %#x bytes", size, base, this.size));
        }
        return new PhysicalMemory(this, base, size);
    }

    /** Index in {@link #chunks} of the chunk holding {@code pa}. */
    private int chunkIndex(long pa) {
        return chunkBase + (int) (pa >>> CHUNK_SHIFT);
    }

    /** The chunk holding {@code pa}, or null when nothing in it was ever written. */
    private byte[] chunk(long pa) {
        return chunks[chunkIndex(pa)];
    }

    /** The chunk holding {@code [pa, pa + length)} (inside one chunk), its frames there marked written. */
    private byte[] chunkForWrite(long pa, int length) {
        int c = chunkIndex(pa);
        byte[] chunk = chunks[c];
        if (chunk == null) {
            chunk = new byte[(int) Math.min(CHUNK_BYTES, rootSize - ((long) c << CHUNK_SHIFT))];
            chunks[c] = chunk;
            written[c] = new long[CHUNK_BYTES / PAGE_SIZE / Long.SIZE];
        }
        long[] bits = written[c];
        int last = frameInChunk(pa + length - 1);
        for (int f = frameInChunk(pa); f <= last; f++) {
            bits[f >>> 6] |= 1L << f;
        }
        return chunk;
    }

    private static int frameInChunk(long pa) {
        return (int) ((pa & CHUNK_MASK) >>> PAGE_SHIFT);
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
        int off = (int) (pa & CHUNK_MASK);
        if (off <= CHUNK_BYTES - 8) {
            byte[] chunk = chunk(pa);
            return chunk == null ? 0 : (long) LONG_LE.get(chunk, off);
        }
        return readAcross(pa, 8);
    }

    public void writeLong(long pa, long value) {
        check(pa, 8);
        int off = (int) (pa & CHUNK_MASK);
        if (off <= CHUNK_BYTES - 8) {
            LONG_LE.set(chunkForWrite(pa, 8), off, value);
            return;
        }
        writeAcross(pa, value, 8);
    }

    public int readInt(long pa) {
        check(pa, 4);
        int off = (int) (pa & CHUNK_MASK);
        if (off <= CHUNK_BYTES - 4) {
            byte[] chunk = chunk(pa);
            return chunk == null ? 0 : (int) INT_LE.get(chunk, off);
        }
        return (int) readAcross(pa, 4);
    }

    public void writeInt(long pa, int value) {
        check(pa, 4);
        int off = (int) (pa & CHUNK_MASK);
        if (off <= CHUNK_BYTES - 4) {
            INT_LE.set(chunkForWrite(pa, 4), off, value);
            return;
        }
        writeAcross(pa, value, 4);
    }

    /** The {@code n} bytes at {@code pa}, which straddle two chunks, as a little-endian number. */
    private long readAcross(long pa, int n) {
        byte[] bytes = read(pa, n);
        long value = 0;
        for (int i = n - 1; i >= 0; i--) {
            value = value << 8 | bytes[i] & 0xff;
        }
        return value;
    }

    /** Writes the low {@code n} bytes of {@code value} little-endian at {@code pa}, straddling two chunks. */
    private void writeAcross(long pa, long value, int n) {
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) (value >>> 8 * i);
        }
        write(pa, bytes);
    }

    /** Copies {@code length} bytes starting at {@code pa}. */
    public byte[] read(long pa, int length) {
        check(pa, length);
        byte[] out = new byte[length];
        int done = 0;
        while (done < length) {
            long addr = pa + done;
            int off = (int) (addr & CHUNK_MASK);
            int n = Math.min(length - done, CHUNK_BYTES - off);
            byte[] chunk = chunk(addr);
            if (chunk != null) {
                System.arraycopy(chunk, off, out, done, n);
            }
            done += n;
        }
        return out;
    }

    /** Writes {@code data} starting at {@code pa}. */
    public void write(long pa, byte[] data) {
        write(pa, data, 0, data.length);
    }

    /** Writes bytes {@code [offset, offset + length)} of {@code data} starting at {@code pa}. */
    public void write(long pa, byte[] data, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, data.length);
        check(pa, length);
        int done = 0;
        while (done < length) {
            long addr = pa + done;
            int off = (int) (addr & CHUNK_MASK);
            int n = Math.min(length - done, CHUNK_BYTES - off);
            System.arraycopy(data, offset + done, chunkForWrite(addr, n), off, n);
            done += n;
        }
    }

    public byte readByte(long pa) {
        check(pa, 1);
        byte[] chunk = chunk(pa);
        return chunk == null ? 0 : chunk[(int) (pa & CHUNK_MASK)];
    }

    public void writeByte(long pa, byte value) {
        check(pa, 1);
        chunkForWrite(pa, 1)[(int) (pa & CHUNK_MASK)] = value;
    }

    /** Whether every byte of {@code [pa, pa + length)} is zero (a frame never written is, without a look). */
    public boolean isZero(long pa, long length) {
        check(pa, length);
        long done = 0;
        while (done < length) {
            long addr = pa + done;
            int n = (int) Math.min(length - done, PAGE_SIZE - (addr & PAGE_MASK));
            int c = chunkIndex(addr);
            long[] bits = written[c];
            int f = frameInChunk(addr);
            int off = (int) (addr & CHUNK_MASK);
            if (bits != null && (bits[f >>> 6] & 1L << f) != 0
                    && Arrays.mismatch(chunks[c], off, off + n, ZERO_PAGE, 0, n) >= 0) {
                return false;
            }
            done += n;
        }
        return true;
    }

    /**
     * Sets {@code length} bytes starting at {@code pa} to zero, looking only at frames written since they were last
     * zeroed whole (the same walk as {@link #isZero}, written out: the page allocator zeroes every frame it hands out,
     * and a shared walk with a lambda costs the RISC-V first-touch benchmark about a tenth of its rate).
     */
    public void zero(long pa, long length) {
        check(pa, length);
        long done = 0;
        while (done < length) {
            long addr = pa + done;
            int n = (int) Math.min(length - done, PAGE_SIZE - (addr & PAGE_MASK));
            int c = chunkIndex(addr);
            long[] bits = written[c];
            int f = frameInChunk(addr);
            if (bits != null && (bits[f >>> 6] & 1L << f) != 0) {
                int off = (int) (addr & CHUNK_MASK);
                Arrays.fill(chunks[c], off, off + n, (byte) 0);
                if (n == PAGE_SIZE) {
                    bits[f >>> 6] &= ~(1L << f);
                }
            }
            done += n;
        }
    }

    private void check(long pa, long length) {
        if (!contains(pa, length)) {
            throw new IllegalArgumentException(String.format(
                    "physical access [%#x, +%d) outside memory of %d bytes", pa, length, size));
        }
    }
}
