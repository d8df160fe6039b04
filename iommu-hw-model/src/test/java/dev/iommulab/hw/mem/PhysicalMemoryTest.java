package dev.iommulab.hw.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * The byte-level contract of {@link PhysicalMemory}: a sparse, little-endian array that is zero where
 * never written. Derives from DESIGN.md §2 ("the hardware walks real bytes") and the class contract
 * (accesses outside [0, size) throw).
 */
class PhysicalMemoryTest {

    private static final long SIZE = 1L << 20;
    private final PhysicalMemory memory = new PhysicalMemory(SIZE);

    /** Little-endian: the least significant byte lands at the lowest address, also across a page. */
    @Test
    void writeLong_acrossPageBoundary_storesLittleEndianBytesInBothFrames() {
        long pa = 0x1ffc;

        memory.writeLong(pa, 0x1122_3344_5566_7788L);

        assertThat(memory.read(pa, 8)).containsExactly(
                0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11);
        assertThat(memory.readLong(pa)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(memory.readInt(0x1ffc)).isEqualTo(0x5566_7788);
        assertThat(memory.readInt(0x2000)).isEqualTo(0x1122_3344);
        assertThat(memory.read(0x2000, 1)).containsExactly(0x44);
    }

    /** readLong inside one page and across one agree with the bytes written one by one. */
    @Test
    void readLong_bytesWrittenIndividually_assemblesLittleEndian() {
        memory.write(0x0ff8, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

        assertThat(memory.readLong(0x0ff8)).isEqualTo(0x0807_0605_0403_0201L);
        assertThat(memory.readLong(0x0ffc)).isEqualTo(0x0c0b_0a09_0807_0605L);
    }

    /** Negative values keep all 64 bits (no sign mangling in the byte assembly). */
    @Test
    void writeLong_negativeValue_readsBackUnchanged() {
        memory.writeLong(0x3000, -2L);
        memory.writeInt(0x3010, 0x8000_0001);

        assertThat(memory.readLong(0x3000)).isEqualTo(-2L);
        assertThat(memory.read(0x3000, 8)).containsExactly(0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
        assertThat(memory.readInt(0x3010)).isEqualTo(0x8000_0001);
    }

    /** PhysicalMemory contract: memory never written reads as zero. */
    @Test
    void read_unwrittenMemory_returnsZero() {
        memory.writeLong(0x5000, -1L);

        assertThat(memory.readLong(0x4ff8)).isZero();
        assertThat(memory.readLong(0x5008)).isZero();
        assertThat(memory.readLong(0x8_0000)).isZero();
        assertThat(memory.readInt(SIZE - 4)).isZero();
        assertThat(memory.read(0x9_0ff0, 64)).containsOnly(0);
    }

    /** PhysicalMemory contract: an access that does not lie wholly inside memory throws. */
    @Test
    void access_outsideMemory_throws() {
        assertThatThrownBy(() -> memory.readLong(SIZE - 4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory.readLong(-8)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory.writeLong(SIZE, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory.read(SIZE - 1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory.writeInt(SIZE - 2, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> memory.zero(SIZE - 8, 16)).isInstanceOf(IllegalArgumentException.class);

        assertThat(memory.readLong(SIZE - 8)).isZero();
    }

    /** A rejected write changes nothing, not even the part that would have fitted. */
    @Test
    void write_partlyOutsideMemory_leavesMemoryUnchanged() {
        assertThatThrownBy(() -> memory.write(SIZE - 4, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(memory.readInt(SIZE - 4)).isZero();
    }

    /** contains() is the check hardware models use before an access (class contract). */
    @Test
    void contains_rangeAtEdges_answersWhetherWhollyInside() {
        assertThat(memory.contains(0, SIZE)).isTrue();
        assertThat(memory.contains(SIZE - 8, 8)).isTrue();
        assertThat(memory.contains(SIZE - 7, 8)).isFalse();
        assertThat(memory.contains(-1, 1)).isFalse();
        assertThat(memory.contains(0, -1)).isFalse();
        assertThat(memory.contains(Long.MAX_VALUE, 8)).isFalse();
    }

    /** zero() clears exactly the range, across a page boundary, and leaves its neighbours alone. */
    @Test
    void zero_rangeAcrossPageBoundary_clearsOnlyThatRange() {
        byte[] pattern = new byte[32];
        java.util.Arrays.fill(pattern, (byte) 0xa5);
        memory.write(0x6ff0, pattern);

        memory.zero(0x6ff4, 24);

        assertThat(memory.read(0x6ff0, 4)).containsOnly(0xa5);
        assertThat(memory.read(0x6ff4, 24)).containsOnly(0);
        assertThat(memory.read(0x700c, 4)).containsOnly(0xa5);
    }

    /** zero() on memory never written keeps it reading as zero. */
    @Test
    void zero_unwrittenRange_readsZero() {
        memory.zero(0x2_0000, 3 * PhysicalMemory.PAGE_SIZE);

        assertThat(memory.read(0x2_0000, 16)).containsOnly(0);
    }

    /** A slice of an array lands where asked, across a 2 MiB chunk of the backing store too. */
    @Test
    void write_sliceAcrossChunkBoundary_storesOnlyTheSlice() {
        PhysicalMemory fourMib = new PhysicalMemory(4L << 20);
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};

        fourMib.write(0x1f_fffe, data, 2, 5);

        assertThat(fourMib.read(0x1f_fffd, 7)).containsExactly(0, 3, 4, 5, 6, 7, 0);
        assertThatThrownBy(() -> fourMib.write(0, data, 4, 5)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /** An int across two 2 MiB chunks of the backing store is still four little-endian bytes. */
    @Test
    void writeInt_acrossChunkBoundary_readIntAndBytesAgree() {
        PhysicalMemory fourMib = new PhysicalMemory(4L << 20);

        fourMib.writeInt(0x1f_fffe, 0x1122_3344);

        assertThat(fourMib.readInt(0x1f_fffe)).isEqualTo(0x1122_3344);
        assertThat(fourMib.read(0x1f_fffe, 4)).containsExactly(0x44, 0x33, 0x22, 0x11);
        assertThat(fourMib.readInt(0x20_0000)).as("two bytes in the next chunk").isEqualTo(0x1122);
    }

    @Test
    void writeByte_anyAddress_readByteAndReadSeeIt() {
        memory.writeByte(0x3001, (byte) 0x9c);

        assertThat(memory.readByte(0x3001)).isEqualTo((byte) 0x9c);
        assertThat(memory.readByte(0x3000)).isZero();
        assertThat(memory.readByte(0x9_0000)).as("never written").isZero();
        assertThat(memory.read(0x3000, 2)).containsExactly(0, 0x9c);
        assertThatThrownBy(() -> memory.readByte(SIZE)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Memory is whole 4 KiB frames. */
    @Test
    void constructor_sizeNotMultipleOfPage_throws() {
        assertThatThrownBy(() -> new PhysicalMemory(4097)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PhysicalMemory(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new PhysicalMemory(8192).size()).isEqualTo(8192);
    }

    /**
     * Zeroing skips frames never written since they were last zeroed whole; every way of writing marks its frames,
     * so each is cleared again: a write, a long and an int straddling frames, a byte, a partial zero that leaves the
     * rest of its frame written.
     */
    @Test
    void zero_framesWrittenEveryWay_allClearedAfterPartialZeroToo() {
        PhysicalMemory mem = new PhysicalMemory(4L << 20);
        long base = 0x1ff000;
        mem.write(base + 0x10, new byte[] {1, 2, 3});
        mem.writeLong(base + 0xffc, -1L);
        mem.writeInt(base + 0x1008, 0x01020304);
        mem.writeInt(base + 0x1ffe, 0x05060708);
        mem.writeByte(base + 0x3000, (byte) 9);
        mem.zero(base + 0x1000, 8);
        assertThat(mem.readInt(base + 0x1008)).as("rest of a partly zeroed frame").isEqualTo(0x01020304);

        mem.zero(base, 0x4000);

        assertThat(mem.read(base, 0x4000)).containsOnly(0);
        mem.writeByte(base + 0x2000, (byte) 5);
        mem.zero(base + 0x2000, 0x1000);
        assertThat(mem.readByte(base + 0x2000)).as("written again after a zero").isZero();
    }

    /** A range is zero until a byte in it is not: never written, written and zeroed again, across frames. */
    @Test
    void isZero_rangesWrittenAndZeroed_trueOnlyWhereEveryByteIsZero() {
        PhysicalMemory mem = new PhysicalMemory(4L << 20);
        assertThat(mem.isZero(0x1ff000, 0x3000)).as("never written").isTrue();

        mem.writeByte(0x200fff, (byte) 1);
        mem.writeLong(0x201000, 0);

        assertThat(mem.isZero(0x1ff000, 0x3000)).as("one byte set").isFalse();
        assertThat(mem.isZero(0x200000, 0xfff)).as("up to the byte").isTrue();
        assertThat(mem.isZero(0x201000, 0x1000)).as("written with zeros").isTrue();
        mem.zero(0x200000, 0x1000);
        assertThat(mem.isZero(0x1ff000, 0x3000)).as("zeroed again").isTrue();
    }

    /** A long and an int straddling the 2 MiB chunk boundary read back whole, high bits set included. */
    @Test
    void writeLong_acrossChunkBoundary_readsBackWhole() {
        PhysicalMemory mem = new PhysicalMemory(8L << 20);

        mem.writeLong(0x1ffffc, 0x8877_6655_4433_2211L);
        mem.writeInt(0x3ffffe, 0xdead_beef);

        assertThat(mem.readLong(0x1ffffc)).isEqualTo(0x8877_6655_4433_2211L);
        assertThat(mem.read(0x200000, 4)).containsExactly(0x55, 0x66, 0x77, 0x88);
        assertThat(mem.readInt(0x3ffffe)).isEqualTo(0xdead_beef);
    }

    /** A window is the same bytes from address 0: writes through either are read through the other. */
    @Test
    void window_writesThroughEither_seenThroughTheOther() {
        PhysicalMemory root = new PhysicalMemory(16L << 20);
        PhysicalMemory guest = root.window(4L << 20, 4L << 20);

        guest.writeLong(0x1000, 0x1122334455667788L);
        root.write((4L << 20) + 0x20_0000 - 2, new byte[] {1, 2, 3, 4});

        assertThat(root.readLong((4L << 20) + 0x1000)).isEqualTo(0x1122334455667788L);
        assertThat(guest.readInt(0x20_0000 - 2)).isEqualTo(0x04030201);
        assertThat(guest.isZero(0x2000, 0x1000)).isTrue();
        guest.zero(0x1000, 0x1000);
        assertThat(root.readLong((4L << 20) + 0x1000)).isZero();
        assertThat(guest.size()).isEqualTo(4L << 20);
    }

    @Test
    void window_outsideOrMisaligned_throwsAndAccessBeyondItThrows() {
        PhysicalMemory root = new PhysicalMemory(16L << 20);
        PhysicalMemory guest = root.window(2L << 20, 2L << 20);

        assertThatThrownBy(() -> root.window(0x1000, 2L << 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> root.window(14L << 20, 4L << 20)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> guest.readLong(2L << 20)).isInstanceOf(IllegalArgumentException.class);
        assertThat(guest.window(0, 2L << 20).readLong(0)).isZero();
    }
}
