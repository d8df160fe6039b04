package dev.iommulab.hw.sim;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The only source of randomness in the simulation: seeded, so a run replays exactly from its seed.
 * Used by the jitter mode, by randomised scenarios and for the bytes a device writes.
 *
 * <p>The generator is {@link java.util.SplittableRandom}'s (SplitMix64: a seed advanced by a fixed odd gamma and
 * mixed), written out here with the same constants and the same bounded-draw rules, so every value is the one
 * {@code new SplittableRandom(seed)} gives; written out so that {@link #nextBytes} can hand out a long run of
 * bytes at once: each 8 bytes of a run are one 64-bit draw, a function of the seed at its start and the draw's
 * index, so a run of any length costs no memory and any byte of it can be read on its own.
 */
public final class SimRandom {

    private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class,
            ByteOrder.LITTLE_ENDIAN);

    private final long seed;
    private long state;

    public SimRandom(long seed) {
        this.seed = seed;
        this.state = seed;
    }

    public long seed() {
        return seed;
    }

    /** A value in [0, bound). */
    public long nextLong(long bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive");
        }
        long m = bound - 1;
        long r = mix64(nextState());
        if ((bound & m) == 0L) {
            return r & m;
        }
        for (long u = r >>> 1; u + m - (r = u % bound) < 0L; u = mix64(nextState()) >>> 1) {
            // reject over-represented candidates, as SplittableRandom does
        }
        return r;
    }

    /** A value in [0, bound). */
    public int nextInt(int bound) {
        if (bound <= 0) {
            throw new IllegalArgumentException("bound must be positive");
        }
        int m = bound - 1;
        int r = mix32(nextState());
        if ((bound & m) == 0) {
            return r & m;
        }
        for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = mix32(nextState()) >>> 1) {
            // reject over-represented candidates, as SplittableRandom does
        }
        return r;
    }

    public boolean nextBoolean() {
        return mix32(nextState()) < 0;
    }

    /** An independent stream derived from this one, e.g. one per device: seeded with this one's next long. */
    public SimRandom split() {
        return new SimRandom(mix64(nextState()));
    }

    /**
     * The next {@code count} random bytes, as {@link Bytes}: eight bytes per 64-bit draw, little-endian, so a DMA
     * write's page costs 512 draws. This source moves past the run at once (as many draws as bytes, so what is drawn
     * after the run does not depend on how its bytes are read); making them takes neither time nor memory in
     * proportion to {@code count} until they are read.
     *
     * @throws IllegalArgumentException for a negative {@code count}
     */
    public Bytes nextBytes(long count) {
        if (count < 0) {
            throw new IllegalArgumentException("count must not be negative: " + count);
        }
        Bytes bytes = new Bytes(state, count);
        state += count * GOLDEN_GAMMA;
        return bytes;
    }

    /**
     * A run of {@code count} random bytes, read at any offset: byte {@code i} is byte {@code i % 8} (little-endian)
     * of the 64-bit draw number {@code i / 8 + 1} after {@code origin}, the generator's state where the run began.
     */
    public record Bytes(long origin, long count) {

        public Bytes {
            if (count < 0) {
                throw new IllegalArgumentException("count must not be negative: " + count);
            }
        }

        /** Byte {@code i} of the run. */
        public byte at(long i) {
            if (i < 0 || i >= count) {
                throw new IndexOutOfBoundsException("byte " + i + " of " + count);
            }
            return (byte) (word(i >>> 3) >>> ((i & 7) << 3));
        }

        /** Bytes {@code [offset, offset + length)} of the run, in a new array. */
        public byte[] copy(long offset, int length) {
            checkRange(offset, length);
            byte[] out = new byte[length];
            int i = 0;
            for (; i < length && ((offset + i) & 7) != 0; i++) {
                out[i] = at(offset + i);
            }
            for (long word = (offset + i) >>> 3; i + 8 <= length; i += 8, word++) {
                LONG_LE.set(out, i, word(word));
            }
            for (; i < length; i++) {
                out[i] = at(offset + i);
            }
            return out;
        }

        /**
         * Writes bytes {@code [offset, offset + length)} of the run into {@code memory} from {@code pa}, a 64-bit
         * draw at a time where the run's words are whole: no array in between.
         */
        public void writeTo(PhysicalMemory memory, long pa, long offset, int length) {
            checkRange(offset, length);
            int i = 0;
            for (; i < length && ((offset + i) & 7) != 0; i++) {
                memory.writeByte(pa + i, at(offset + i));
            }
            for (long word = (offset + i) >>> 3; i + 8 <= length; i += 8, word++) {
                memory.writeLong(pa + i, word(word));
            }
            for (; i < length; i++) {
                memory.writeByte(pa + i, at(offset + i));
            }
        }

        /**
         * Whether {@code memory} holds bytes {@code [offset, offset + length)} of the run from {@code pa}, compared
         * a 64-bit draw at a time where the run's words are whole: no copy of either side.
         */
        public boolean matches(long offset, PhysicalMemory memory, long pa, int length) {
            checkRange(offset, length);
            int i = 0;
            for (; i < length && ((offset + i) & 7) != 0; i++) {
                if (memory.readByte(pa + i) != at(offset + i)) {
                    return false;
                }
            }
            for (long word = (offset + i) >>> 3; i + 8 <= length; i += 8, word++) {
                if (memory.readLong(pa + i) != word(word)) {
                    return false;
                }
            }
            for (; i < length; i++) {
                if (memory.readByte(pa + i) != at(offset + i)) {
                    return false;
                }
            }
            return true;
        }

        /** Whether {@code actual} holds bytes {@code [offset, offset + actual.length)} of the run. */
        public boolean matches(long offset, byte[] actual) {
            checkRange(offset, actual.length);
            int i = 0;
            for (; i < actual.length && ((offset + i) & 7) != 0; i++) {
                if (actual[i] != at(offset + i)) {
                    return false;
                }
            }
            for (long word = (offset + i) >>> 3; i + 8 <= actual.length; i += 8, word++) {
                if ((long) LONG_LE.get(actual, i) != word(word)) {
                    return false;
                }
            }
            for (; i < actual.length; i++) {
                if (actual[i] != at(offset + i)) {
                    return false;
                }
            }
            return true;
        }

        private void checkRange(long offset, int length) {
            if (offset < 0 || length < 0 || offset > count - length) {
                throw new IndexOutOfBoundsException("bytes " + offset + "+" + length + " of " + count);
            }
        }

        private long word(long index) {
            return mix64(origin + (index + 1) * GOLDEN_GAMMA);
        }
    }

    private long nextState() {
        state += GOLDEN_GAMMA;
        return state;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    private static int mix32(long z) {
        z = (z ^ (z >>> 33)) * 0x62a9d9ed799705f5L;
        return (int) (((z ^ (z >>> 28)) * 0xcb24d0a5c88c35b3L) >>> 32);
    }
}
