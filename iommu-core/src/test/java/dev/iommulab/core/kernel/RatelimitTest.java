package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel rate limiter, {@code ___ratelimit()} in lib/ratelimit.c with DEFAULT_RATELIMIT_INTERVAL (5 s)
 * and DEFAULT_RATELIMIT_BURST (10), on virtual time.
 */
class RatelimitTest {

    private static final long SECOND = 1_000_000_000L;

    private final EventLoop loop = new EventLoop(1);
    private final KernelLog log = new KernelLog(loop);

    private List<Boolean> callAt(long atNs, Ratelimit rs, int times) {
        List<Boolean> results = new ArrayList<>();
        loop.schedule(atNs - loop.now(), "call", () -> {
            for (int i = 0; i < times; i++) {
                results.add(rs.allow());
            }
        });
        loop.runUntilIdle();
        return results;
    }

    private List<String> texts() {
        return log.lines().stream().map(KernelLog.Line::text).toList();
    }

    /** ___ratelimit(): ten calls pass in the interval, the rest are counted as missed, nothing is logged yet. */
    @Test
    void allow_fifteenCallsInOneInterval_tenPassFiveMissed() {
        Ratelimit rs = log.ratelimitState("dmar_fault");

        List<Boolean> results = callAt(0, rs, 15);

        assertThat(results).containsExactly(true, true, true, true, true, true, true, true, true, true,
                false, false, false, false, false);
        assertThat(rs.missed()).isEqualTo(5);
        assertThat(log.lines()).isEmpty();
    }

    /**
     * ___ratelimit(): the first call once the interval has ended resets the burst and prints
     * "dmar_fault: 5 callbacks suppressed" (KERN_WARNING, no pr_fmt prefix) before it passes.
     */
    @Test
    void allow_afterTheIntervalWithMisses_logsCallbacksSuppressedThenPasses() {
        Ratelimit rs = log.ratelimitState("dmar_fault");
        callAt(0, rs, 15);

        List<Boolean> later = callAt(6 * SECOND, rs, 1);

        assertThat(later).containsExactly(true);
        assertThat(log.lines()).singleElement().satisfies(line -> {
            assertThat(line.text()).isEqualTo("dmar_fault: 5 callbacks suppressed");
            assertThat(line.level()).isEqualTo(KernelLog.Level.WARNING);
            assertThat(line.atNs()).isEqualTo(6 * SECOND);
        });
        assertThat(rs.missed()).isZero();
    }

    /** time_is_before_jiffies(begin + interval): exactly 5 s after the start the interval has not ended yet. */
    @Test
    void allow_exactlyOneIntervalLater_stillSuppressed() {
        Ratelimit rs = log.ratelimitState("dmar_fault");
        callAt(0, rs, 10);

        assertThat(callAt(5 * SECOND, rs, 1)).containsExactly(false);
        assertThat(callAt(5 * SECOND + 1, rs, 1)).containsExactly(true);
        assertThat(texts()).containsExactly("dmar_fault: 1 callbacks suppressed");
    }

    /** ___ratelimit(): an interval that ends without misses prints nothing. */
    @Test
    void allow_newIntervalWithoutMisses_logsNothing() {
        Ratelimit rs = log.ratelimitState("riscv_iommu_fault");
        callAt(0, rs, 3);

        assertThat(callAt(10 * SECOND, rs, 10)).containsOnly(true);
        assertThat(log.lines()).isEmpty();
    }

    /** static DEFINE_RATELIMIT_STATE: one state per call site, shared by every caller naming it. */
    @Test
    void ratelimitState_sameCallSite_sharedStateOtherSiteSeparate() {
        Ratelimit a = log.ratelimitState("prq_event_thread", "detected", Ratelimit.DEFAULT_RATELIMIT_INTERVAL_NS, 10);
        Ratelimit b = log.ratelimitState("prq_event_thread", "cleared", Ratelimit.DEFAULT_RATELIMIT_INTERVAL_NS, 10);

        assertThat(log.ratelimitState("dmar_fault")).isSameAs(log.ratelimitState("dmar_fault"));
        assertThat(a).isNotSameAs(b);
        assertThat(a.function()).isEqualTo(b.function()).isEqualTo("prq_event_thread");
        assertThatThrownBy(() -> log.ratelimitState("dmar_fault", "", SECOND, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dmar_fault");
    }

    /** ___ratelimit(): interval 0 never limits; burst 0 suppresses everything and never reports it. */
    @Test
    void allow_zeroIntervalOrZeroBurst_alwaysOrNever() {
        Ratelimit unlimited = log.ratelimitState("a", "", 0, 10);
        Ratelimit closed = log.ratelimitState("b", "", SECOND, 0);

        assertThat(callAt(0, unlimited, 20)).containsOnly(true);
        assertThat(callAt(0, closed, 3)).containsOnly(false);
        assertThat(callAt(10 * SECOND, closed, 1)).containsOnly(false);
        assertThat(log.lines()).isEmpty();
    }

    /** dev_err_ratelimited(): eleven calls print ten lines; the twelfth, 6 s later, prints the summary first. */
    @Test
    void errRatelimited_elevenThenLater_tenLinesThenSummary() {
        loop.schedule(0, "burst", () -> {
            for (int i = 0; i < 11; i++) {
                log.errRatelimited("report", "fault %d", i);
            }
        });
        loop.runUntilIdle();
        loop.schedule(6 * SECOND, "later", () -> log.errRatelimited("report", "fault %d", 11));
        loop.runUntilIdle();

        assertThat(texts()).hasSize(12).startsWith("fault 0").endsWith("fault 9", "report: 1 callbacks suppressed",
                "fault 11");
    }
}
