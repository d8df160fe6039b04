package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.SimRandom;
import org.junit.jupiter.api.Test;

/**
 * A payload reaches memory through the slices its memory requests carry, and is compared with memory in place: both
 * kinds must agree with their bytes at any offset and length (the engine cuts pages into MPS-sized chunks).
 */
class DmaPayloadTest {

    private final PhysicalMemory memory = new PhysicalMemory(1 << 16);

    @Test
    void slice_givenBytes_writesThatRangeOnly() {
        byte[] bytes = new byte[20];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i + 1);
        }
        WriteData slice = DmaPayload.of(bytes).slice(3, 13);

        slice.writeTo(memory, 0x1001);

        assertThat(slice.length()).isEqualTo(13);
        assertThat(memory.read(0x1000, 15)).containsExactly(0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0);
        assertThatThrownBy(() -> DmaPayload.of(bytes).slice(10, 11)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void slice_drawnBytes_writesTheDrawnRangeAndCountsIt() {
        SimRandom.Bytes run = new SimRandom(4).nextBytes(64);
        DmaPayload.Drawn payload = DmaPayload.drawn(new SimRandom(4), 64);

        payload.slice(5, 50).writeTo(memory, 0x2000);

        assertThat(memory.read(0x2000, 50)).isEqualTo(run.copy(5, 50));
        assertThat(payload.bytesProduced()).isEqualTo(50);
    }

    @Test
    void matchesMemory_givenBytesWritten_trueAndOneByteOffFalse() {
        byte[] bytes = new byte[30];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (7 * i);
        }
        DmaPayload payload = DmaPayload.of(bytes);
        memory.write(0x3002, bytes, 1, 27);

        assertThat(payload.matches(1, memory, 0x3002, 27)).isTrue();
        assertThat(payload.matches(0, memory, 0x3002, 27)).as("shifted by one").isFalse();
        memory.writeByte(0x3002 + 26, (byte) 0);
        assertThat(payload.matches(1, memory, 0x3002, 27)).as("last byte changed").isFalse();
        memory.writeByte(0x3002 + 26, bytes[27]);
        memory.writeByte(0x3002 + 4, (byte) 0);
        assertThat(payload.matches(1, memory, 0x3002, 27)).as("a byte of a whole word changed").isFalse();
    }

    @Test
    void matchesMemory_drawnBytesWritten_true() {
        DmaPayload.Drawn payload = DmaPayload.drawn(new SimRandom(8), 4096);
        payload.slice(0, 4096).writeTo(memory, 0x4000);

        assertThat(payload.matches(0, memory, 0x4000, 4096)).isTrue();
        assertThat(payload.matches(8, memory, 0x4008, 100)).isTrue();
        assertThat(payload.matches(0, memory, 0x4008, 100)).isFalse();
    }
}
