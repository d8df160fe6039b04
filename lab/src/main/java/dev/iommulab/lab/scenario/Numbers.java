package dev.iommulab.lab.scenario;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Number syntax of scenario files; every method throws IllegalArgumentException with a message. */
final class Numbers {

    private static final String DIGITS = "(0[xX][0-9a-fA-F][0-9a-fA-F_]*|[0-9][0-9_]*)";
    private static final Pattern SIZE = Pattern.compile(DIGITS + "\\s*(KiB|MiB|GiB)?");
    private static final Pattern TIME = Pattern.compile(DIGITS + "\\s*(ns|us|ms)?");

    private Numbers() {
    }

    /** Decimal or {@code 0x} hex, optionally followed by {@code KiB}, {@code MiB} or {@code GiB}. */
    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid number '" + text
                    + "'; expected decimal or 0x hex, optionally with KiB, MiB or GiB");
        }
        return scale(text, m.group(1), unitSize(m.group(2)));
    }

    /** A time in ns: decimal or {@code 0x} hex, optionally followed by {@code ns}, {@code us} or {@code ms}. */
    static long parseTime(String text) {
        Matcher m = TIME.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("invalid time '" + text
                    + "'; expected a number of ns, optionally with ns, us or ms");
        }
        return scale(text, m.group(1), unitTime(m.group(2)));
    }

    /** Whether {@link #parseSize} accepts the text. */
    static boolean isSize(String text) {
        return SIZE.matcher(text.strip()).matches();
    }

    private static long unitSize(String unit) {
        if (unit == null) {
            return 1;
        }
        return switch (unit) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            default -> 1L << 30;
        };
    }

    private static long unitTime(String unit) {
        if (unit == null) {
            return 1;
        }
        return switch (unit) {
            case "us" -> 1_000L;
            case "ms" -> 1_000_000L;
            default -> 1L;
        };
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
