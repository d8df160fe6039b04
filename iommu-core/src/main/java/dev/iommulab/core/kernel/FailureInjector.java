package dev.iommulab.core.kernel;

import java.util.HashMap;
import java.util.Map;

/**
 * Makes the next allocations at a named site fail, like the kernel's fault-injection framework
 * (failslab). Sites are plain names such as {@code iopf-group} or {@code iopf-partial}.
 */
public final class FailureInjector {

    private final Map<String, Integer> remaining = new HashMap<>();

    /** The next {@code count} allocations at {@code site} fail. */
    public void failNext(String site, int count) {
        if (count < 0) {
            throw new KernelException(Errno.EINVAL, "count", "must not be negative: " + count);
        }
        remaining.merge(site, count, Integer::sum);
    }

    /** Called by an allocation site: true when this allocation must fail. */
    public boolean shouldFail(String site) {
        Integer left = remaining.get(site);
        if (left == null || left == 0) {
            return false;
        }
        remaining.put(site, left - 1);
        return true;
    }
}
