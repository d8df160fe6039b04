package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;

/** failslab-style injection and the page allocator that honours it. */
class FailureInjectorTest {

    private final FailureInjector failures = new FailureInjector();

    /**
     * failNext(site, 2) fails exactly the next two allocations at that site and no other site.
     * Reference §8 items 14 and 16 (how allocation failures are provoked).
     */
    @Test
    void shouldFail_twoInjected_failsNextTwoAtThatSiteOnly() {
        failures.failNext("iopf-group", 2);

        assertThat(failures.shouldFail("iopf-partial")).isFalse();
        assertThat(failures.shouldFail("iopf-group")).isTrue();
        assertThat(failures.shouldFail("iopf-group")).isTrue();
        assertThat(failures.shouldFail("iopf-group")).isFalse();
    }

    /** A negative count is refused with -EINVAL. Reference DESIGN §6. */
    @Test
    void failNext_negativeCount_throwsEinval() {
        KernelException e = catchThrowableOfType(KernelException.class, () -> failures.failNext("frame", -1));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(failures.shouldFail("frame")).isFalse();
    }

    /**
     * The page allocator fails with -ENOMEM on an injected failure without consuming a frame: the next
     * allocation returns the frame the failed one would have. Reference §8 item 4, DESIGN §6.
     */
    @Test
    void allocate_injectedFailure_throwsEnomemAndConsumesNoFrame() {
        PhysicalMemory memory = new PhysicalMemory(1L << 20);
        FrameAllocator frames = new FrameAllocator(memory, 0x8_0000, failures);
        long first = frames.allocate();
        failures.failNext(FrameAllocator.SITE, 1);

        KernelException e = catchThrowableOfType(KernelException.class, frames::allocate);

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(first).isEqualTo(0x8_0000);
        assertThat(frames.allocate()).isEqualTo(0x8_1000);
    }

    /** Physical memory exhausted: -ENOMEM. Reference DESIGN §6. */
    @Test
    void allocate_memoryExhausted_throwsEnomem() {
        FrameAllocator frames = new FrameAllocator(new PhysicalMemory(0x2000), 0x1000, failures);
        frames.allocate();

        assertThat(catchThrowableOfType(KernelException.class, frames::allocate).errno()).isEqualTo(Errno.ENOMEM);
    }
}
