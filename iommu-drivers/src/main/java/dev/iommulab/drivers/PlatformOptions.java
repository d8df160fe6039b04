package dev.iommulab.drivers;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Reads typed values out of a scenario's {@code hardware.options}. */
public final class PlatformOptions {

    private final String model;
    private final Map<String, Object> options;

    public PlatformOptions(String model, Map<String, Object> options, List<String> known) {
        this.model = model;
        this.options = options;
        for (String key : options.keySet()) {
            if (!known.contains(key)) {
                throw new PlatformOptionException(key, "unknown " + model + " option; known: " + String.join(", ", known));
            }
        }
    }

    public boolean has(String key) {
        return options.containsKey(key);
    }

    /** An integer in {@code [min, max]}; the loader gives numbers as Long, strings are decoded. */
    public int integer(String key, int min, int max) {
        Object v = options.get(key);
        long n;
        try {
            n = v instanceof Number number ? number.longValue() : Long.decode(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            n = Long.MIN_VALUE;
        }
        if (n < min || n > max) {
            throw new PlatformOptionException(key, "must be an integer from " + min + " to " + max + ": " + v);
        }
        return (int) n;
    }

    public boolean bool(String key) {
        String v = String.valueOf(options.get(key)).toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new PlatformOptionException(key, "must be true or false: " + v);
        }
        return Boolean.parseBoolean(v);
    }

    /** One of {@code allowed}, compared case-insensitively, returned in lower case. */
    public String choice(String key, List<String> allowed) {
        String v = String.valueOf(options.get(key)).toLowerCase(Locale.ROOT);
        if (!allowed.contains(v)) {
            throw new PlatformOptionException(key, "must be one of " + String.join(", ", allowed) + ": " + v);
        }
        return v;
    }
}
