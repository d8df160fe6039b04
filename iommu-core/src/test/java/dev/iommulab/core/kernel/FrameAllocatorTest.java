package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/** The page allocator's free path (__free_page()), which io-pgtable uses for emptied tables. */
class FrameAllocatorTest {

    private final PhysicalMemory memory = new PhysicalMemory(2L << 20);
    private final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, new FailureInjector());

    /** A freed frame is handed out again (lowest first), zeroed; contiguous runs never use freed frames. */
    @Test
    void free_frame_isReusedLowestFirstAndZeroed() {
        long a = frames.allocate();
        long b = frames.allocate();
        long c = frames.allocate();
        memory.writeLong(a, -1);
        frames.free(c);
        frames.free(a);

        assertThat(frames.allocatedFrames()).isEqualTo(1);
        assertThat(frames.allocate()).isEqualTo(a);
        assertThat(memory.readLong(a)).isZero();
        assertThat(frames.allocateContiguous(2)).isEqualTo(c + 4096);
        assertThat(frames.allocate()).isEqualTo(c);
        assertThat(b).isEqualTo(a + 4096);
    }

    /** Freeing what is not allocated (twice, never handed out, unaligned) is -EINVAL. */
    @Test
    void free_notAllocated_throwsEinval() {
        long a = frames.allocate();
        frames.free(a);

        for (long bad : new long[] {a, a + 4096, a + 8, 0}) {
            assertThat(catchThrowableOfType(KernelException.class, () -> frames.free(bad)).errno())
                    .as("%#x", bad).isEqualTo(Errno.EINVAL);
        }
    }
}
