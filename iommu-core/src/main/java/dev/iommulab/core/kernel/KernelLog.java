package dev.iommulab.core.kernel;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
}
