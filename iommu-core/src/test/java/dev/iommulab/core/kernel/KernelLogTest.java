package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.EventLoop;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dmesg ring: lines stamped from virtual time as printk prints them, "[%5lu.%06lu] ". */
class KernelLogTest {

    private final EventLoop loop = new EventLoop(1);
    private final KernelLog log = new KernelLog(loop);

    /**
     * A line logged at 4 us of virtual time prints as "[    0.000004] text" (printk time prefix).
     * Reference §2.2 step 8 (the "iopf with pasid N aborted" warning is such a line).
     */
    @Test
    void formatted_lineAtFourMicroseconds_printsPrintkTimestamp() {
        loop.schedule(4_000, "log", () -> log.warn("iopf with pasid %d aborted", 5));
        loop.runUntilIdle();

        assertThat(log.lines()).singleElement().satisfies(line -> {
            assertThat(line.atNs()).isEqualTo(4_000);
            assertThat(line.level()).isEqualTo(KernelLog.Level.WARNING);
            assertThat(line.text()).isEqualTo("iopf with pasid 5 aborted");
            assertThat(line.formatted()).isEqualTo("[    0.000004] iopf with pasid 5 aborted");
        });
    }

    /**
     * Seconds are padded to five columns and sub-microsecond time is truncated. Reference DESIGN §3.
     */
    @Test
    void formatted_largeAndFractionalTimes_truncatesToMicroseconds() {
        assertThat(new KernelLog.Line(0, KernelLog.Level.INFO, "boot").formatted()).isEqualTo("[    0.000000] boot");
        assertThat(new KernelLog.Line(12_345_678_999L, KernelLog.Level.ERR, "x").formatted())
                .isEqualTo("[   12.345678] x");
        assertThat(new KernelLog.Line(123_456_000_000_000L, KernelLog.Level.INFO, "y").formatted())
                .isEqualTo("[123456.000000] y");
    }

    /**
     * info/warn/err record their printk level in order; lines() is a snapshot. Reference DESIGN §3.
     */
    @Test
    void lines_severalLevels_keepsOrderAndIsSnapshot() {
        log.info("a %s", "b");
        log.err("c");
        List<KernelLog.Line> snapshot = log.lines();
        log.warn("d");

        assertThat(snapshot).extracting(KernelLog.Line::level)
                .containsExactly(KernelLog.Level.INFO, KernelLog.Level.ERR);
        assertThat(snapshot).extracting(KernelLog.Line::text).containsExactly("a b", "c");
        assertThat(log.lines()).hasSize(3);
    }
}
