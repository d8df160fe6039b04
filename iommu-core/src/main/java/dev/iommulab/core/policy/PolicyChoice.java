package dev.iommulab.core.policy;

import com.google.inject.Module;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A policy whose values are fixed names, the first of them the kernel's choice (the default), with the module of a
 * value built by {@code factory}. Most policies are {@link #binding}s: each name stands for one instance of a type.
 *
 * @param values     every accepted value, the default first
 * @param parameters extra keys below the policy key
 * @param factory    the module of a value and its parameters; may throw {@link PolicyException} for a bad parameter
 */
public record PolicyChoice(List<String> values, List<String> parameters, Factory factory) implements Policy {

    /** Builds the module of a value. */
    @FunctionalInterface
    public interface Factory {
        Module module(String value, Map<String, String> parameters);
    }

    /** Validates the fields. */
    public PolicyChoice {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a policy needs at least one value");
        }
        values = List.copyOf(values);
        parameters = List.copyOf(parameters);
        Objects.requireNonNull(factory, "factory");
    }

    /** A policy without parameters whose value {@code v} binds {@code type} to {@code instance.apply(v)}. */
    public static <T> PolicyChoice binding(Class<T> type, List<String> values, Function<String, T> instance) {
        return new PolicyChoice(values, List.of(), (value, parameters) -> bind(type, instance.apply(value)));
    }

    /** The module binding {@code type} to {@code instance}. */
    public static <T> Module bind(Class<T> type, T instance) {
        return binder -> binder.bind(type).toInstance(instance);
    }

    @Override
    public String defaultValue() {
        return values.get(0);
    }

    @Override
    public Module module(String value, Map<String, String> parameters) {
        return factory.module(value, parameters);
    }
}
