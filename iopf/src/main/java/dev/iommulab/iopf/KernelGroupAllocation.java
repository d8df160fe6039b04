package dev.iommulab.iopf;

import com.google.inject.Inject;
import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.FailureInjector;

/** {@code iopf.group-allocation: kernel}: kzalloc of a group, failing where the scenario injects failures. */
public final class KernelGroupAllocation implements GroupAllocation {

    private final FailureInjector failures;

    @Inject
    public KernelGroupAllocation(FailureInjector failures) {
        this.failures = failures;
    }

    @Override
    public Outcome allocate(Device dev) {
        return failures.shouldFail(Iopf.SITE_GROUP) ? Outcome.FAILED : Outcome.GRANTED;
    }

    @Override
    public void release(Device dev) {
    }
}
