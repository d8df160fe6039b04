package dev.iommulab.core.kernel;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kernel ring buffer (dmesg): each line is stamped with the virtual time as printk does,
 * {@code [seconds.microseconds]}, followed by the text the kernel would print.
 */
public final class KernelLog {

    /** printk levels used here. */
    public enum Level {
        ERR, WARNING, INFO, DEBUG
    }

    /** One line: time, level and the text without the timestamp. */
    public record Line(long atNs, Level level, String text) {

        /** The line as dmesg prints it. */
        public String formatted() {
            long micros = atNs / 1_000;
            return String.format(Locale.ROOT, "[%5d.%06d] %s", micros / 1_000_000, micros % 1_000_000, text);
        }
    }

    private final EventLoop loop;
    private final List<Line> lines = new ArrayList<>();
    private final Map<String, Ratelimit> ratelimits = new HashMap<>();

    public KernelLog(EventLoop loop) {
        this.loop = loop;
    }

    public void log(Level level, String text) {
        lines.add(new Line(loop.now(), level, text));
    }

    public void info(String format, Object... args) {
        log(Level.INFO, String.format(Locale.ROOT, format, args));
    }

    public void warn(String format, Object... args) {
        log(Level.WARNING, String.format(Locale.ROOT, format, args));
    }

    public void err(String format, Object... args) {
        log(Level.ERR, String.format(Locale.ROOT, format, args));
    }

    public List<Line> lines() {
        return List.copyOf(lines);
    }

    /** The virtual time lines are stamped with. */
    long now() {
        return loop.now();
    }

    /**
     * The rate-limit state of the call site in {@code function} ({@code static DEFINE_RATELIMIT_STATE(rs,
     * DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST)}): the same state for every caller naming the
     * same call site in this kernel, so all devices and IOMMUs share it as they share the kernel's static.
     */
    public Ratelimit ratelimitState(String function) {
        return ratelimitState(function, "", Ratelimit.DEFAULT_RATELIMIT_INTERVAL_NS, Ratelimit.DEFAULT_RATELIMIT_BURST);
    }

    /**
     * The rate-limit state of one call site: {@code site} tells apart two ratelimited calls in the same
     * {@code function} (each {@code pr_*_ratelimited()} expansion has its own state); "callbacks
     * suppressed" names {@code function}.
     *
     * @throws IllegalArgumentException when the site exists with another interval or burst
     */
    public Ratelimit ratelimitState(String function, String site, long intervalNs, int burst) {
        Ratelimit rs = ratelimits.computeIfAbsent(function + "#" + site,
                k -> new Ratelimit(function, intervalNs, burst, this));
        if (rs.intervalNs() != intervalNs || rs.burst() != burst) {
            throw new IllegalArgumentException("rate-limit state " + function + "#" + site + " exists with interval "
                    + rs.intervalNs() + " ns, burst " + rs.burst());
        }
        return rs;
    }

    /** {@code pr_err_ratelimited()} / {@code dev_err_ratelimited()} at the call site in {@code function}. */
    public void errRatelimited(String function, String format, Object... args) {
        if (ratelimitState(function).allow()) {
            err(format, args);
        }
    }

    /**
     * Counterpart of dev_warn_ratelimited() (and of pr_warn_ratelimited(), which differs only in the prefix the
     * caller formats) at the call site in {@code function}.
     */
    public void warnRatelimited(String function, String format, Object... args) {
        if (ratelimitState(function).allow()) {
            warn(format, args);
        }
    }
}
