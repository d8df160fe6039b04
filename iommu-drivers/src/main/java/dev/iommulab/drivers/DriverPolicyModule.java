package dev.iommulab.drivers;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.Policy;
import java.util.List;
import java.util.Map;

/**
 * Registers the drivers' policy {@code iopf.overflow-recovery} ({@code discard-partials} | {@code none} |
 * {@code reset-devices}) in the {@code MapBinder<String, Policy>} of {@link Policies}, and binds the
 * default, {@code discard-partials}.
 */
public final class DriverPolicyModule extends AbstractModule {

    /** The policy key. */
    public static final String OVERFLOW_RECOVERY = "iopf.overflow-recovery";

    private static final Map<String, OverflowRecovery> VALUES = Map.of("discard-partials",
            OverflowRecovery.DISCARD_PARTIALS, "none", OverflowRecovery.NONE, "reset-devices",
            OverflowRecovery.RESET_DEVICES);

    @Override
    protected void configure() {
        Policies.binder(binder()).addBinding(OVERFLOW_RECOVERY).toInstance(new Policy() {
            @Override
            public String defaultValue() {
                return "discard-partials";
            }

            @Override
            public List<String> values() {
                return List.of("discard-partials", "none", "reset-devices");
            }

            @Override
            public Module module(String value, Map<String, String> parameters) {
                OverflowRecovery recovery = VALUES.get(value);
                return binder -> binder.bind(OverflowRecovery.class).toInstance(recovery);
            }
        });
    }

    /** The default binding, installed by {@link DriversModule}. */
    static Module defaults() {
        return binder -> binder.bind(OverflowRecovery.class).toInstance(OverflowRecovery.DISCARD_PARTIALS);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DriverPolicyModule;
    }

    @Override
    public int hashCode() {
        return DriverPolicyModule.class.hashCode();
    }
}
