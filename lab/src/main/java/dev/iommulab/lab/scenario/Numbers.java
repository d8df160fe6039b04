package dev.iommulab.lab.scenario;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Number syntax of scenario files; every method throws IllegalArgumentException with a message. */
final class Numbers {

    private static final String DIGITS = "(0[xX][0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)";
    private static final Syntax SIZE = new Syntax("number", "decimal or 0x hex, optionally with KiB, MiB or GiB",
            "KiB|MiB|GiB", Map.of("KiB", 1L << 10, "MiB", 1L << 20, "GiB", 1L << 30));
    private static final Syntax TIME = new Syntax("time", "a number of ns, optionally with ns, us or ms",
            "ns|us|ms", Map.of("ns", 1L, "us", 1_000L, "ms", 1_000_000L));

    private Numbers() {
    }

    /** Decimal or {@code 0x} hex, optionally followed by {@code KiB}, {@code MiB} or {@code GiB}. */
    static long parseSize(String text) {
        return SIZE.parse(text);
    }

    /** A time in ns: decimal or {@code 0x} hex, optionally followed by {@code ns}, {@code us} or {@code ms}. */
    static long parseTime(String text) {
        return TIME.parse(text);
    }

    /** Whether {@link #parseSize} accepts the text. */
    static boolean isSize(String text) {
        return SIZE.pattern.matcher(text.strip()).matches();
    }

    /**
     * A number with an optional unit: {@code noun} and {@code expected} word the error, {@code units} gives each
     * unit's scale (no unit: 1).
     */
    private record Syntax(String noun, String expected, Pattern pattern, Map<String, Long> units) {

        Syntax(String noun, String expected, String unitAlternatives, Map<String, Long> units) {
            this(noun, expected, Pattern.compile(DIGITS + "\\s*(" + unitAlternatives + ")?"), units);
        }

        long parse(String text) {
            Matcher m = pattern.matcher(text.strip());
            if (!m.matches()) {
                throw new IllegalArgumentException("invalid " + noun + " '" + text + "'; expected " + expected);
            }
            return scale(text, m.group(1), m.group(2) == null ? 1 : units.get(m.group(2)));
        }
    }

    private static long scale(String text, String digits, long unit) {
        String plain = digits.replace("_", "");
        try {
            boolean hex = plain.startsWith("0x") || plain.startsWith("0X");
            long value = hex ? Long.parseLong(plain.substring(2), 16) : Long.parseLong(plain);
            return Math.multiplyExact(value, unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("number '" + text + "' is out of range (max "
                    + Long.MAX_VALUE + ")");
        }
    }
}
