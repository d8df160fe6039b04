package dev.iommulab.hw.pci;

import dev.iommulab.hw.sim.SimRandom;
import java.util.Arrays;
import java.util.Objects;

/**
 * The bytes a DMA write carries, asked for chunk by chunk as the {@link DmaEngine} issues its memory requests: a work
 * item holds at most one chunk of them at a time, so a write of any length costs no memory in proportion to its
 * length (nor does one whose first page faults). Either bytes given up front ({@link #of}) or a run of a seeded
 * random source ({@link #drawn}), which makes each chunk when it is asked for.
 */
public sealed interface DmaPayload permits DmaPayload.Given, DmaPayload.Drawn {

    /** How many bytes the payload has. */
    long size();

    /**
     * Bytes {@code [offset, offset + length)} of the payload, in a new array.
     *
     * @throws IndexOutOfBoundsException outside the payload
     */
    byte[] bytes(long offset, int length);

    /**
     * Whether {@code actual} holds bytes {@code [offset, offset + actual.length)} of the payload (what a check of
     * memory after the write asks), without making a copy of them.
     *
     * @throws IndexOutOfBoundsException outside the payload
     */
    boolean matches(long offset, byte[] actual);

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

        private final byte[] bytes;

        private Given(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public byte[] bytes(long offset, int length) {
            Objects.checkFromIndexSize(offset, length, bytes.length);
            byte[] out = new byte[length];
            System.arraycopy(bytes, (int) offset, out, 0, length);
            return out;
        }

        @Override
        public boolean matches(long offset, byte[] actual) {
            Objects.checkFromIndexSize(offset, actual.length, bytes.length);
            return Arrays.equals(bytes, (int) offset, (int) offset + actual.length, actual, 0, actual.length);
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
        public byte[] bytes(long offset, int length) {
            byte[] out = run.copy(offset, length);
            produced += length;
            return out;
        }

        @Override
        public boolean matches(long offset, byte[] actual) {
            return run.matches(offset, actual);
        }

        /** How many bytes were made so far (a chunk asked for twice counts twice): none is kept. */
        public long bytesProduced() {
            return produced;
        }
    }
}
