package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.SimRandom;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * The bytes a DMA write carries, written into memory chunk by chunk as the IOMMU performs the {@link DmaEngine}'s
 * memory requests (each request carries a {@link #slice}, not a copy), so a write of any length costs no memory in
 * proportion to its length (nor does one whose first page faults). Either bytes given up front ({@link #of}) or a
 * run of a seeded random source ({@link #drawn}), which makes each chunk as it is written.
 */
public sealed interface DmaPayload permits DmaPayload.Given, DmaPayload.Drawn {

    /** How many bytes the payload has. */
    long size();

    /**
     * Writes bytes {@code [offset, offset + length)} of the payload into {@code memory} from {@code pa} (what the
     * IOMMU does with a memory write request of the payload), without an array in between.
     *
     * @throws IndexOutOfBoundsException outside the payload
     */
    void writeTo(PhysicalMemory memory, long pa, long offset, int length);

    /**
     * Whether {@code actual} holds bytes {@code [offset, offset + actual.length)} of the payload (what a check of
     * memory after the write asks), without making a copy of them.
     *
     * @throws IndexOutOfBoundsException outside the payload
     */
    boolean matches(long offset, byte[] actual);

    /**
     * Whether {@code memory} holds bytes {@code [offset, offset + length)} of the payload from {@code pa}, compared
     * in place: no copy of the payload or of memory.
     *
     * @throws IndexOutOfBoundsException outside the payload
     */
    boolean matches(long offset, PhysicalMemory memory, long pa, int length);

    /**
     * Bytes {@code [offset, offset + length)} as the data of one memory write request: a view that writes them when
     * the request is performed.
     */
    default WriteData slice(long offset, int length) {
        Objects.checkFromIndexSize(offset, length, size());
        return new WriteData() {
            @Override
            public int length() {
                return length;
            }

            @Override
            public void writeTo(PhysicalMemory memory, long pa) {
                DmaPayload.this.writeTo(memory, pa, offset, length);
            }
        };
    }

    /** The payload of {@code bytes} (copied). */
    static DmaPayload of(byte[] bytes) {
        return new Given(bytes.clone());
    }

    /**
     * The next {@code size} bytes of {@code random} ({@link SimRandom#nextBytes}: eight bytes per 64-bit draw);
     * {@code random} moves past all of them now.
     */
    static Drawn drawn(SimRandom random, long size) {
        return new Drawn(random.nextBytes(size));
    }

    /** Bytes given up front. */
    final class Given implements DmaPayload {

        private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
                ByteOrder.LITTLE_ENDIAN);

        private final byte[] bytes;

        private Given(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public void writeTo(PhysicalMemory memory, long pa, long offset, int length) {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            memory.write(pa, bytes, (int) offset, length);
        }

        @Override
        public boolean matches(long offset, byte[] actual) {
            Objects.checkFromIndexSize(offset, actual.length, bytes.length);
            return Arrays.equals(bytes, (int) offset, (int) offset + actual.length, actual, 0, actual.length);
        }

        @Override
        public boolean matches(long offset, PhysicalMemory memory, long pa, int length) {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            int i = 0;
            for (; i + 8 <= length; i += 8) {
                if (memory.readLong(pa + i) != (long) LONG_LE.get(bytes, (int) offset + i)) {
                    return false;
                }
            }
            for (; i < length; i++) {
                if (memory.readByte(pa + i) != bytes[(int) offset + i]) {
                    return false;
                }
            }
            return true;
        }
    }

    /** A run of drawn random bytes, made chunk by chunk; counts the bytes it made. */
    final class Drawn implements DmaPayload {

        private final SimRandom.Bytes run;
        private long produced;

        private Drawn(SimRandom.Bytes run) {
            this.run = run;
        }

        @Override
        public long size() {
            return run.count();
        }

        @Override
        public void writeTo(PhysicalMemory memory, long pa, long offset, int length) {
            run.writeTo(memory, pa, offset, length);
            produced += length;
        }

        @Override
        public boolean matches(long offset, byte[] actual) {
            return run.matches(offset, actual);
        }

        @Override
        public boolean matches(long offset, PhysicalMemory memory, long pa, int length) {
            return run.matches(offset, memory, pa, length);
        }

        /** How many bytes were written into memory so far (a chunk written twice counts twice): none is kept. */
        public long bytesProduced() {
            return produced;
        }
    }
}
