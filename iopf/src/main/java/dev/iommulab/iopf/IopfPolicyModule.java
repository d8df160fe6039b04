package dev.iommulab.iopf;

import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.PolicyModule;

/**
 * Registers io-pgfault's policies ({@code iopf.abort-response}, {@code iopf.group-allocation} with
 * {@code pool-size} and {@code max-open-per-device}, {@code iopf.partial-match}) in the
 * {@code MapBinder<String, Policy>} of {@link Policies}. Installed by {@link IopfModule}; on its own it lets
 * the lab list and validate the policies without building a machine.
 */
public final class IopfPolicyModule extends PolicyModule {

    @Override
    protected void configure() {
        IopfPolicyChoices.register(Policies.binder(binder()));
    }
}
