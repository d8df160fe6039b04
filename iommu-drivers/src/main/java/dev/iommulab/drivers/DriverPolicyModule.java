package dev.iommulab.drivers;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.Policy;
import java.util.List;
import java.util.Map;

/**
 * Registers the drivers' policies in the {@code MapBinder<String, Policy>} of {@link Policies}:
 * {@code iopf.overflow-recovery} ({@code discard-partials} | {@code none} | {@code reset-devices}, default
 * {@code discard-partials}, {@link OverflowRecovery}) and {@code fault.overflow-recovery} ({@code none} |
 * {@code reset-devices}, default {@code none}, {@link FaultOverflowRecovery}); {@link #defaults()} binds the
 * defaults.
 */
public final class DriverPolicyModule extends AbstractModule {

    /** The policy key. */
    public static final String OVERFLOW_RECOVERY = "iopf.overflow-recovery";
    /** The policy key of {@link FaultOverflowRecovery}. */
    public static final String FAULT_OVERFLOW_RECOVERY = "fault.overflow-recovery";

    private static final Map<String, FaultOverflowRecovery> FAULT_VALUES = Map.of("none", FaultOverflowRecovery.NONE,
            "reset-devices", FaultOverflowRecovery.RESET_DEVICES);

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
        Policies.binder(binder()).addBinding(FAULT_OVERFLOW_RECOVERY).toInstance(new Policy() {
            @Override
            public String defaultValue() {
                return "none";
            }

            @Override
            public List<String> values() {
                return List.of("none", "reset-devices");
            }

            @Override
            public Module module(String value, Map<String, String> parameters) {
                FaultOverflowRecovery recovery = FAULT_VALUES.get(value);
                return binder -> binder.bind(FaultOverflowRecovery.class).toInstance(recovery);
            }
        });
    }

    /** The default binding, installed by {@link DriversModule}. */
    static Module defaults() {
        return binder -> {
            binder.bind(OverflowRecovery.class).toInstance(OverflowRecovery.DISCARD_PARTIALS);
            binder.bind(FaultOverflowRecovery.class).toInstance(FaultOverflowRecovery.NONE);
        };
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
