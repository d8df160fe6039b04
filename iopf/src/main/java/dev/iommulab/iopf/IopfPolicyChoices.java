package dev.iommulab.iopf;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.core.policy.Policy;
import dev.iommulab.core.policy.PolicyChoice;
import java.util.List;
import java.util.Map;

/** The io-pgfault policies a scenario may choose under {@code policies:}, registered by key. */
final class IopfPolicyChoices {

    static final String ABORT_RESPONSE = "iopf.abort-response";
    static final String GROUP_ALLOCATION = "iopf.group-allocation";
    static final String PARTIAL_MATCH = "iopf.partial-match";
    static final String POOL_SIZE = "pool-size";
    static final String MAX_OPEN_PER_DEVICE = "max-open-per-device";

    private IopfPolicyChoices() {
    }

    static void register(MapBinder<String, Policy> policies) {
        policies.addBinding(ABORT_RESPONSE).toInstance(PolicyChoice.binding(AbortResponse.class,
                List.of("FAILURE", "INVALID"), value -> value.equals("FAILURE") ? AbortResponse.KERNEL
                        : () -> dev.iommulab.core.fault.PageResponseCode.INVALID));
        policies.addBinding(PARTIAL_MATCH).toInstance(PolicyChoice.binding(PartialMatch.class,
                List.of("grpid", "grpid-pasid"), value -> value.equals("grpid") ? PartialMatch.GRPID
                        : PartialMatch.GRPID_PASID));
        policies.addBinding(GROUP_ALLOCATION).toInstance(new PolicyChoice(List.of("kernel", "bounded-pool"),
                List.of(POOL_SIZE, MAX_OPEN_PER_DEVICE), IopfPolicyChoices::allocation));
    }

    private static Module allocation(String value, Map<String, String> params) {
        int pool = Policies.positiveInt(GROUP_ALLOCATION, params, POOL_SIZE, BoundedPoolAllocation.DEFAULT_POOL_SIZE);
        int perDevice = Policies.positiveInt(GROUP_ALLOCATION, params, MAX_OPEN_PER_DEVICE,
                BoundedPoolAllocation.DEFAULT_MAX_OPEN_PER_DEVICE);
        if (value.equals("kernel")) {
            if (!params.isEmpty()) {
                String key = GROUP_ALLOCATION + "." + params.keySet().iterator().next();
                throw new dev.iommulab.core.policy.PolicyException(key, "applies only to bounded-pool");
            }
            return new AbstractModule() {
                @Override
                protected void configure() {
                    bind(GroupAllocation.class).to(KernelGroupAllocation.class).in(Singleton.class);
                }
            };
        }
        return new AbstractModule() {
            @Override
            protected void configure() {
                bind(GroupAllocation.class).toProvider(() -> new BoundedPoolAllocation(pool, perDevice))
                        .in(Singleton.class);
            }
        };
    }
}
