package dev.iommulab.drivers.riscv;

import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.sim.EventLoop;

/**
 * The {@code ratelimit_state} behind one {@code dev_warn_ratelimited()} call site, on virtual time:
 * {@code ___ratelimit()} in lib/ratelimit.c with {@code DEFAULT_RATELIMIT_INTERVAL} (5 s) and
 * {@code DEFAULT_RATELIMIT_BURST} (10). At most 10 messages pass per interval; the first call after an
 * interval ended that had suppressed messages logs {@code "<function>: N callbacks suppressed"} first.
 */
final class Ratelimit {

    static final long INTERVAL_NS = 5_000_000_000L;
    static final int BURST = 10;

    private final String function;
    private final EventLoop loop;
    private final KernelLog log;
    private long begin = -1;
    private int printed;
    private int missed;

    /** @param function the call site's {@code __func__}, named in the "callbacks suppressed" line */
    Ratelimit(String function, EventLoop loop, KernelLog log) {
        this.function = function;
        this.loop = loop;
        this.log = log;
    }

    /** Whether the next message may be printed ({@code __ratelimit()} returning non-zero). */
    boolean allow() {
        long now = loop.now();
        if (begin < 0) {
            begin = now;
        }
        if (now > begin + INTERVAL_NS) {
            if (missed > 0) {
                log.warn("%s: %d callbacks suppressed", function, missed);
                missed = 0;
            }
            begin = now;
            printed = 0;
        }
        if (printed < BURST) {
            printed++;
            return true;
        }
        missed++;
        return false;
    }
}
