package dev.iommulab.core.policy;

import com.google.inject.Binder;
import com.google.inject.Module;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.util.Modules;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The {@code MapBinder<String, Policy>} every layer adds its decision points to, and their selection. */
public final class Policies {

    /**
     * The longest time a policy parameter may give: 2^40 ns, about 18 minutes. Such a time is a timer's (e.g.
     * {@code dma.flush.timeout}), which one run may arm again and again; kept this far below the 2^62 ns a scenario's
     * own times may reach, 2^22 of them can run after those before the simulated clock (a signed 64-bit count of ns)
     * could overflow.
     */
    public static final long MAX_TIME_NS = 1L << 40;

    private static final Pattern TIME = Pattern.compile("([0-9][0-9_]*)\\s*(ns|us|ms)?");

    private Policies() {
    }

    /** The map binder of policies by key; call from a module's {@code configure()}. */
    public static MapBinder<String, Policy> binder(Binder binder) {
        return MapBinder.newMapBinder(binder, String.class, Policy.class);
    }

    /**
     * The modules for the {@code chosen} policy values (dotted keys, parameters as {@code <key>.<name>}).
     * Policies not mentioned keep the layer's own (kernel) binding.
     *
     * @throws PolicyException naming the first unknown key, unknown value or bad parameter
     */
    public static Module select(Map<String, Policy> registered, Map<String, String> chosen) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, Map<String, String>> parameters = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : chosen.entrySet()) {
            String key = e.getKey();
            if (registered.containsKey(key)) {
                Policy policy = registered.get(key);
                if (!policy.values().contains(e.getValue())) {
                    throw new PolicyException(key, "unknown value '" + e.getValue() + "'; expected one of "
                            + String.join(", ", policy.values()));
                }
                values.put(key, e.getValue());
                continue;
            }
            int dot = key.lastIndexOf('.');
            String owner = dot < 0 ? "" : key.substring(0, dot);
            Policy policy = registered.get(owner);
            if (policy == null || !policy.parameters().contains(key.substring(dot + 1))) {
                throw new PolicyException(key, "unknown policy; known: " + known(registered));
            }
            parameters.computeIfAbsent(owner, k -> new LinkedHashMap<>()).put(key.substring(dot + 1), e.getValue());
        }
        List<Module> modules = new ArrayList<>();
        for (String key : new TreeSet<>(union(values, parameters))) {
            Policy policy = registered.get(key);
            modules.add(policy.module(values.getOrDefault(key, policy.defaultValue()),
                    parameters.getOrDefault(key, Map.of())));
        }
        return Modules.combine(modules);
    }

    private static List<String> union(Map<String, ?> a, Map<String, ?> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        keys.addAll(b.keySet());
        return keys;
    }

    private static String known(Map<String, Policy> registered) {
        List<String> names = new ArrayList<>();
        for (String key : new TreeSet<>(registered.keySet())) {
            names.add(key);
            registered.get(key).parameters().forEach(p -> names.add(key + "." + p));
        }
        return String.join(", ", names);
    }

    /** A parameter as a positive int, or {@code fallback} when absent. */
    public static int positiveInt(String policyKey, Map<String, String> parameters, String name, int fallback) {
        String text = parameters.get(name);
        if (text == null) {
            return fallback;
        }
        try {
            int value = Integer.parseInt(text);
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new PolicyException(policyKey + "." + name, "expected a positive integer, found '" + text + "'");
    }

    /**
     * A positive time in ns as scenario files write times: a decimal number, optionally followed by {@code ns},
     * {@code us} or {@code ms} (a plain number is ns), of at most {@link #MAX_TIME_NS}.
     *
     * @throws PolicyException naming {@code key} for anything else
     */
    public static long positiveTime(String key, String text) {
        Matcher m = TIME.matcher(text.strip());
        if (m.matches()) {
            long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
                case "us" -> 1_000L;
                case "ms" -> 1_000_000L;
                default -> 1L;
            };
            try {
                long value = Math.multiplyExact(Long.parseLong(m.group(1).replace("_", "")), unit);
                if (value > 0 && value <= MAX_TIME_NS) {
                    return value;
                }
            } catch (NumberFormatException | ArithmeticException e) {
                // reported below
            }
        }
        throw new PolicyException(key, "expected a positive time (ns, us or ms) of at most 2^40 ns (" + MAX_TIME_NS
                + " ns, about 18 min), found '" + text + "'");
    }
}
