package dev.iommulab.iopf;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.policy.Policies;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;

/**
 * io-pgfault, with the kernel's choice bound for each of its policies ({@code iopf.abort-response},
 * {@code iopf.group-allocation}, {@code iopf.partial-match}), which it registers in
 * {@link Policies#binder} ({@link IopfPolicyModule}) so a scenario can select others. The layers around it
 * receive it as {@link IoPgfault}, the binding a test overrides to swap the layer.
 */
public final class IopfModule extends AbstractModule {

    @Override
    protected void configure() {
        install(new IopfPolicyModule());
        bind(IoPgfault.class).to(Iopf.class);
        bind(AbortResponse.class).toInstance(AbortResponse.KERNEL);
        bind(PartialMatch.class).toInstance(PartialMatch.GRPID);
        bind(GroupAllocation.class).to(KernelGroupAllocation.class).in(Singleton.class);
    }

    @Provides
    @Singleton
    IopfPolicies policies(KernelVersion kernel, AbortResponse abort, GroupAllocation allocation,
                          PartialMatch partialMatch) {
        return new IopfPolicies(kernel, abort, allocation, partialMatch);
    }

    @Provides
    @Singleton
    Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
              KernelLog log, IopfPolicies policies) {
        return new Iopf(core, loop, timing, events, failures, log, policies);
    }
}
