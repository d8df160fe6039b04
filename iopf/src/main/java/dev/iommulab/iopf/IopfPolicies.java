package dev.iommulab.iopf;

import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.kernel.FailureInjector;
import java.util.Objects;

/**
 * The choices io-pgfault makes that a scenario may change: the kernel version followed and one policy per
 * decision point.
 *
 * @param kernel       scenario key {@code kernel}
 * @param abort        {@code iopf.abort-response}
 * @param allocation   {@code iopf.group-allocation}
 * @param partialMatch {@code iopf.partial-match}
 */
public record IopfPolicies(KernelVersion kernel, AbortResponse abort, GroupAllocation allocation,
                           PartialMatch partialMatch) {

    public IopfPolicies {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(abort, "abort");
        Objects.requireNonNull(allocation, "allocation");
        Objects.requireNonNull(partialMatch, "partialMatch");
    }

    /** Latest kernel, kernel policies. */
    public static IopfPolicies kernel(FailureInjector failures) {
        return new IopfPolicies(KernelVersion.LATEST, AbortResponse.KERNEL, new KernelGroupAllocation(failures),
                PartialMatch.GRPID);
    }

    public IopfPolicies withKernel(KernelVersion version) {
        return new IopfPolicies(version, abort, allocation, partialMatch);
    }

    public IopfPolicies withAbort(AbortResponse policy) {
        return new IopfPolicies(kernel, policy, allocation, partialMatch);
    }

    public IopfPolicies withAllocation(GroupAllocation policy) {
        return new IopfPolicies(kernel, abort, policy, partialMatch);
    }

    public IopfPolicies withPartialMatch(PartialMatch policy) {
        return new IopfPolicies(kernel, abort, allocation, policy);
    }
}
