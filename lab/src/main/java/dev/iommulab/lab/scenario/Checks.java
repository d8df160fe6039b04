package dev.iommulab.lab.scenario;

import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Validation helpers shared by the model records and the loader; each throws IllegalArgumentException. */
final class Checks {

    static final long PAGE_SIZE = 4096;
    static final int MAX_PASID = (1 << 20) - 1;
    static final int MAX_GRPID = 511;
    /**
     * The largest time a file may give ({@code at}, {@code run.for}), and the largest the latest {@code at} plus every
     * {@code run.for} may reach: 2^62 ns, about 146 years. The simulated clock is a signed 64-bit count of ns; the
     * other half of its range is headroom for the model's own delays (timers, latencies), so no sum overflows.
     */
    static final long MAX_TIME_NS = 1L << 62;

    private static final Pattern REASON = Pattern.compile("[A-Z][A-Z0-9_]*");
    private static final Pattern BDF = Pattern.compile("([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\\.([0-7])");

    private Checks() {
    }

    static String name(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be empty");
        }
        return value;
    }

    static String oneOf(String value, List<String> allowed, String what) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException("unknown " + what + " '" + value + "'; allowed: "
                    + String.join(", ", allowed));
        }
        return value;
    }

    static String optionalOneOf(String value, List<String> allowed, String what) {
        return value == null ? null : oneOf(value, allowed, what);
    }

    static long nonNegative(long value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must be >= 0, got " + value);
        }
        return value;
    }

    static long positive(long value, String what) {
        if (value <= 0) {
            throw new IllegalArgumentException(what + " must be > 0, got " + value);
        }
        return value;
    }

    static int range(int value, int min, int max, String what) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(what + " must be in " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    static Integer optionalRange(Integer value, int min, int max, String what) {
        return value == null ? null : range(value, min, max, what);
    }

    static Long time(Long ns, String what) {
        if (ns != null && ns < 0) {
            throw new IllegalArgumentException(what + " must be >= 0 ns, got " + ns);
        }
        if (ns != null && ns > MAX_TIME_NS) {
            throw new IllegalArgumentException(what + " must be at most 2^62 ns (" + MAX_TIME_NS
                    + " ns, about 146 years), got " + ns);
        }
        return ns;
    }

    /**
     * The end of {@code [start, start + size)}, which must not pass {@code Long.MAX_VALUE} (the largest number a file
     * can write).
     */
    static long end(long start, long size, String what) {
        if (start > Long.MAX_VALUE - size) {
            throw new IllegalArgumentException(String.format("%s: %#x + %#x ends beyond 2^63 - 1", what, start, size));
        }
        return start + size;
    }

    /**
     * What every step has: its time ({@code at}: >= 0 ns, or null to run when the previous step is idle) and where it
     * is written.
     */
    static void step(Long atNs, SourceLocation location) {
        time(atNs, "at");
        Objects.requireNonNull(location, "location");
    }

    static long pageAligned(long value, String what) {
        if (value % PAGE_SIZE != 0) {
            throw new IllegalArgumentException(what + " 0x" + Long.toHexString(value)
                    + " is not page aligned (" + PAGE_SIZE + ")");
        }
        return value;
    }

    /** Protection: {@code none} or a non-empty set of the letters r, w, x, each at most once. */
    static String prot(String value) {
        Objects.requireNonNull(value, "prot");
        boolean ok = value.equals("none") || (!value.isEmpty() && value.length() <= 3
                && value.chars().allMatch(c -> c == 'r' || c == 'w' || c == 'x')
                && value.chars().distinct().count() == value.length());
        if (!ok) {
            throw new IllegalArgumentException("invalid prot '" + value
                    + "'; allowed: the letters r, w, x (e.g. r, rw, rwx) or none");
        }
        return value;
    }

    /** Whether the text looks like an enum constant name, e.g. {@code TRANSLATION_NOT_PRESENT}. */
    static boolean isReasonName(String reason) {
        return reason != null && REASON.matcher(reason).matches();
    }

    /** Parses {@code bb:dd.f} (hex) into the PCI requester ID. */
    static int rid(String bdf) {
        Matcher m = BDF.matcher(bdf == null ? "" : bdf);
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid bdf '" + bdf + "'; expected bb:dd.f in hex, e.g. 00:03.0");
        }
        int bus = Integer.parseInt(m.group(1), 16);
        int dev = Integer.parseInt(m.group(2), 16);
        int fn = Integer.parseInt(m.group(3), 16);
        if (dev > 0x1f) {
            throw new IllegalArgumentException("invalid bdf '" + bdf + "'; device number must be 00..1f");
        }
        return bus << 8 | dev << 3 | fn;
    }

    /** {@code " x" + count}, or {@code ""} when the count is not constrained (for describe()). */
    static String times(Integer count) {
        return count == null ? "" : " x" + count;
    }

    /** {@code " name=value"}, or {@code ""} when the value is {@code null} (for describe()). */
    static String opt(String name, Object value) {
        return value == null ? "" : " " + name + "=" + value;
    }
}
