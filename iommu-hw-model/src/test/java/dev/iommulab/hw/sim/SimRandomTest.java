package dev.iommulab.hw.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SimRandom writes SplittableRandom out so that a run of bytes can be drawn at once: every value must stay the one
 * {@code new SplittableRandom(seed)} gives, or every seeded run (and the golden files) would change.
 */
class SimRandomTest {

    private static final long[] SEEDS = {0, 1, 7, -1, 0xC0FFEE, Long.MIN_VALUE, Long.MAX_VALUE, 123456789L};
    private static final int[] INT_BOUNDS = {1, 2, 3, 7, 256, 1000, 1 << 20, Integer.MAX_VALUE};
    private static final long[] LONG_BOUNDS = {1, 3, 1_000, 1L << 40, 3L << 61, Long.MAX_VALUE};

    @Test
    void nextInt_anySeedAndBound_sameAsSplittableRandom() {
        for (long seed : SEEDS) {
            SimRandom sim = new SimRandom(seed);
            SplittableRandom jdk = new SplittableRandom(seed);
            for (int i = 0; i < 2_000; i++) {
                int bound = INT_BOUNDS[i % INT_BOUNDS.length];
                assertThat(sim.nextInt(bound)).as("seed %d draw %d", seed, i).isEqualTo(jdk.nextInt(bound));
            }
        }
    }

    @Test
    void nextLongAndBoolean_interleaved_sameAsSplittableRandom() {
        for (long seed : SEEDS) {
            SimRandom sim = new SimRandom(seed);
            SplittableRandom jdk = new SplittableRandom(seed);
            for (int i = 0; i < 2_000; i++) {
                long bound = LONG_BOUNDS[i % LONG_BOUNDS.length];
                assertThat(sim.nextLong(bound)).isEqualTo(jdk.nextLong(bound));
                assertThat(sim.nextBoolean()).isEqualTo(jdk.nextBoolean());
            }
        }
    }

    @Test
    void split_anySeed_childSeededWithParentsNextLong() {
        for (long seed : SEEDS) {
            SimRandom child = new SimRandom(seed).split();
            SplittableRandom jdkParent = new SplittableRandom(seed);
            SplittableRandom jdkChild = new SplittableRandom(jdkParent.nextLong());
            assertThat(child.nextInt(1000)).isEqualTo(jdkChild.nextInt(1000));
            assertThat(child.nextLong(1L << 40)).isEqualTo(jdkChild.nextLong(1L << 40));
        }
    }

    @Test
    void nextBytes_anyOffset_eightBytesPerNextLongLittleEndian() {
        SimRandom sim = new SimRandom(7);
        SplittableRandom jdk = new SplittableRandom(7);
        sim.nextInt(10);
        jdk.nextInt(10);

        SimRandom.Bytes bytes = sim.nextBytes(10_000);

        byte[] expected = new byte[10_000];
        for (int i = 0; i < expected.length; i += 8) {
            long w = jdk.nextLong();
            for (int b = 0; b < 8 && i + b < expected.length; b++) {
                expected[i + b] = (byte) (w >>> (8 * b));
            }
        }
        assertThat(bytes.copy(0, 10_000)).isEqualTo(expected);
        assertThat(bytes.copy(4093, 7)).containsExactly(expected[4093], expected[4094], expected[4095],
                expected[4096], expected[4097], expected[4098], expected[4099]);
        assertThat(bytes.copy(3, 2)).containsExactly(expected[3], expected[4]);
        assertThat(bytes.at(9_999)).isEqualTo(expected[9_999]);
        for (int i = 10_000 / 8; i < 10_000; i++) {
            jdk.nextLong();
        }
        assertThat(sim.nextInt(1 << 20)).as("the source moved past one draw per byte").isEqualTo(jdk.nextInt(1 << 20));
    }

    @Test
    void matches_copyOfAnyRange_trueAndOneByteOffFalse() {
        SimRandom.Bytes bytes = new SimRandom(5).nextBytes(100);
        byte[] middle = bytes.copy(3, 41);

        assertThat(bytes.matches(3, middle)).isTrue();
        assertThat(bytes.matches(0, bytes.copy(0, 100))).isTrue();
        assertThat(bytes.matches(4, middle)).as("shifted by one").isFalse();
        middle[40] ^= 1;
        assertThat(bytes.matches(3, middle)).as("last byte flipped").isFalse();
        middle[40] ^= 1;
        middle[20] ^= 0x80;
        assertThat(bytes.matches(3, middle)).as("a byte of an aligned word flipped").isFalse();
        assertThatThrownBy(() -> bytes.matches(90, new byte[11])).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /** Written into memory, a run holds the bytes copy() gives, whatever the alignment of either side. */
    @Test
    void writeTo_unalignedOffsetAndAddress_memoryHoldsTheCopy() {
        SimRandom.Bytes bytes = new SimRandom(6).nextBytes(100);
        PhysicalMemory memory = new PhysicalMemory(1 << 16);

        bytes.writeTo(memory, 0x1005, 3, 90);

        assertThat(memory.read(0x1005, 90)).isEqualTo(bytes.copy(3, 90));
        assertThat(memory.read(0x1004, 1)).containsExactly(0);
        assertThat(memory.read(0x1005 + 90, 1)).containsExactly(0);
        assertThatThrownBy(() -> bytes.writeTo(memory, 0, 20, 81)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void matchesMemory_writtenRun_trueAndAnyFlippedByteFalse() {
        SimRandom.Bytes bytes = new SimRandom(7).nextBytes(100);
        PhysicalMemory memory = new PhysicalMemory(1 << 16);
        memory.write(0x2003, bytes.copy(5, 41));

        assertThat(bytes.matches(5, memory, 0x2003, 41)).isTrue();
        assertThat(bytes.matches(6, memory, 0x2003, 41)).as("shifted by one").isFalse();
        for (int at : new int[] {0, 2, 20, 40}) {
            memory.writeByte(0x2003 + at, (byte) (memory.readByte(0x2003 + at) ^ 1));
            assertThat(bytes.matches(5, memory, 0x2003, 41)).as("byte %d flipped", at).isFalse();
            memory.writeByte(0x2003 + at, (byte) (memory.readByte(0x2003 + at) ^ 1));
        }
        assertThatThrownBy(() -> bytes.matches(90, memory, 0, 11)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void nextBytes_eightGiB_movesPastThemWithoutDrawingEach() {
        SimRandom sim = new SimRandom(3);
        SimRandom.Bytes huge = sim.nextBytes(8L << 30);
        SimRandom.Bytes after = sim.nextBytes(1);

        assertThat(huge.count()).isEqualTo(8L << 30);
        assertThat(after.origin()).isEqualTo(huge.origin() + (8L << 30) * 0x9e3779b97f4a7c15L);
        assertThat(huge.copy((8L << 30) - 2, 2)).hasSize(2);
    }

    @Test
    void bytes_outsideTheRun_throws() {
        SimRandom.Bytes bytes = new SimRandom(1).nextBytes(16);

        assertThatThrownBy(() -> bytes.at(16)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> bytes.copy(10, 7)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> new SimRandom(1).nextBytes(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
