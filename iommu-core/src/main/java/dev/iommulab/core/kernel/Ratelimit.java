package dev.iommulab.core.kernel;

/**
 * One {@code struct ratelimit_state} and {@code ___ratelimit()} of lib/ratelimit.c, on virtual time: at most
 * {@code burst} calls pass per {@code interval}; the first call after an interval ended that had suppressed
 * calls logs {@code "<function>: N callbacks suppressed"} (KERN_WARNING, printk_deferred(), so without the
 * caller's pr_fmt prefix) and starts a new interval.
 *
 * <p>A state belongs to one call site, as the kernel's {@code static DEFINE_RATELIMIT_STATE} does (one per
 * {@code dev_warn_ratelimited()}/{@code pr_err_ratelimited()} expansion, one for {@code dmar_fault()}): get it
 * from {@link KernelLog#ratelimitState(String)}, which hands every caller of the same call site the same
 * state, across devices and IOMMUs, as a static variable is shared.
 *
 * <p>Differences from the kernel, documented: time is the event loop's nanoseconds, not jiffies (an interval
 * ends when more than {@code interval} ns have passed since it began, {@code time_is_before_jiffies(begin +
 * interval)}); there is no lock, so the trylock-contention path (which counts a miss without resetting) never
 * happens in this single-threaded simulation.
 */
public final class Ratelimit {

    /** DEFAULT_RATELIMIT_INTERVAL: 5 * HZ. */
    public static final long DEFAULT_RATELIMIT_INTERVAL_NS = 5_000_000_000L;
    /** DEFAULT_RATELIMIT_BURST. */
    public static final int DEFAULT_RATELIMIT_BURST = 10;

    private final String function;
    private final long intervalNs;
    private final int burst;
    private final KernelLog log;
    private boolean initialized;
    private long begin;
    private int left;
    private int missed;

    Ratelimit(String function, long intervalNs, int burst, KernelLog log) {
        if (intervalNs < 0 || burst < 0) {
            throw new IllegalArgumentException("interval and burst are >= 0: " + intervalNs + ", " + burst);
        }
        this.function = function;
        this.intervalNs = intervalNs;
        this.burst = burst;
        this.log = log;
    }

    /** The call site's {@code __func__}, named in the "callbacks suppressed" line. */
    public String function() {
        return function;
    }

    public long intervalNs() {
        return intervalNs;
    }

    public int burst() {
        return burst;
    }

    /**
     * {@code __ratelimit(rs)}: true when the caller may go ahead. Interval 0 disables limiting; burst 0
     * (with an interval) suppresses every call and never reports it, as the kernel does.
     */
    public boolean allow() {
        if (intervalNs == 0 || burst == 0) {
            boolean ret = intervalNs == 0;
            if (!ret) {
                missed++;
            }
            return ret;
        }
        long now = log.now();
        if (!initialized) {
            begin = now;
            initialized = true;
            left = burst;
        }
        if (now - begin > intervalNs) {
            left = burst;
            begin = now;
            int m = missed;
            missed = 0;
            if (m > 0) {
                log.warn("%s: %d callbacks suppressed", function, m);
            }
        }
        if (left > 0) {
            left--;
            return true;
        }
        missed++;
        return false;
    }

    /** Calls suppressed in the current interval, not reported yet. */
    public int missed() {
        return missed;
    }
}
