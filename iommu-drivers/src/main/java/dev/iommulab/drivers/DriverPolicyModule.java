package dev.iommulab.drivers;

import com.google.inject.Module;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.PolicyChoice;
import dev.iommulab.core.policy.PolicyModule;
import java.util.List;
import java.util.Map;

/**
 * Registers the drivers' policies in the {@code MapBinder<String, Policy>} of {@link Policies}:
 * {@code iopf.overflow-recovery} ({@code discard-partials} | {@code none} | {@code reset-devices}, default
 * {@code discard-partials}, {@link OverflowRecovery}) and {@code fault.overflow-recovery} ({@code none} |
 * {@code reset-devices}, default {@code none}, {@link FaultOverflowRecovery}); {@link #defaults()} binds the
 * defaults.
 */
public final class DriverPolicyModule extends PolicyModule {

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
        Policies.binder(binder()).addBinding(OVERFLOW_RECOVERY).toInstance(PolicyChoice.binding(
                OverflowRecovery.class, List.of("discard-partials", "none", "reset-devices"), VALUES::get));
        Policies.binder(binder()).addBinding(FAULT_OVERFLOW_RECOVERY).toInstance(PolicyChoice.binding(
                FaultOverflowRecovery.class, List.of("none", "reset-devices"), FAULT_VALUES::get));
    }

    /** The default binding, installed by {@link DriversModule}. */
    static Module defaults() {
        return binder -> {
            binder.bind(OverflowRecovery.class).toInstance(OverflowRecovery.DISCARD_PARTIALS);
            binder.bind(FaultOverflowRecovery.class).toInstance(FaultOverflowRecovery.NONE);
        };
    }
}
