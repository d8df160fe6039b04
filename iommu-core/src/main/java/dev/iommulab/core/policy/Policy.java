package dev.iommulab.core.policy;

import com.google.inject.Module;
import java.util.List;
import java.util.Map;

/**
 * One decision point a scenario may choose under {@code policies:} (e.g. {@code iopf.abort-response}).
 * Layers register theirs by key with {@link Policies#register}; the lab validates the scenario's choice
 * and installs {@link #module} over the layer modules, whose own binding is the kernel's choice.
 */
public interface Policy {

    /** The kernel's value, used when the scenario says nothing. */
    String defaultValue();

    /** Every accepted value. */
    List<String> values();

    /** Extra keys below the policy key ({@code <key>.<parameter>}), e.g. {@code pool-size}. */
    default List<String> parameters() {
        return List.of();
    }

    /**
     * The bindings for {@code value}.
     *
     * @param value      one of {@link #values()}
     * @param parameters the given parameters by name (a subset of {@link #parameters()})
     * @throws PolicyException for a bad parameter value
     */
    Module module(String value, Map<String, String> parameters);
}
