package dev.iommulab.iopf;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.ArrayList;
import java.util.List;

/**
 * Partials and groups: report_partial_fault(), iopf_group_alloc() (with the partial-match and
 * group-allocation policies) and iopf_free_group().
 */
final class GroupAssembly {

    private final FailureInjector failures;
    private final FaultParams params;
    private final EventLoop loop;
    private final IopfPolicies policies;

    GroupAssembly(FailureInjector failures, FaultParams params, EventLoop loop, IopfPolicies policies) {
        this.failures = failures;
        this.params = params;
        this.loop = loop;
        this.policies = policies;
    }

    /**
     * Counterpart of report_partial_fault(): parks {@code evt} (arrival order) and drops the caller's param
     * reference.
     *
     * @return 0, or -ENOMEM when the allocation failed (the request is lost)
     */
    int reportPartialFault(FaultParam param, IommuFault evt) {
        try {
            if (failures.shouldFail(Iopf.SITE_PARTIAL)) {
                return Errno.ENOMEM.negative();
            }
            param.partial.add(evt);
            loop.trace().step(loop.now(), Layer.IOPF, "report_partial_fault", "grpid %d parked (%d partial)",
                    evt.grpid(), param.partial.size());
            return 0;
        } finally {
            params.put(param);
        }
    }

    /**
     * Counterpart of iopf_group_alloc(): a group of the partials matching {@code evt} (arrival order) and
     * {@code evt}, linked as pending. The caller's param reference passes to the group. When the allocation
     * policy gives none the group is the on-stack abort group ({@link Group#abortGroup}) or a back-pressure
     * group ({@link Group#backPressure}), both to be answered and freed at once.
     */
    Group groupAlloc(FaultParam param, IommuFault evt) {
        GroupAllocation.Outcome outcome = policies.allocation().allocate(param.dev);
        List<IommuFault> faults = takePartials(param, evt);
        faults.add(evt);
        Group group = new Group(param, evt, faults, outcome);
        param.faults.add(group);
        return group;
    }

    /**
     * The body of iopf_free_group() ({@link Iopf#freeGroup}): drops the group's reference (and its pool slot).
     * Idempotent here.
     */
    void freeGroup(Group group) {
        if (group.freed) {
            return;
        }
        group.freed = true;
        if (group.outcome == GroupAllocation.Outcome.GRANTED) {
            policies.allocation().release(group.param.dev);
        }
        params.put(group.param);
    }

    private List<IommuFault> takePartials(FaultParam param, IommuFault evt) {
        List<IommuFault> taken = new ArrayList<>(param.partial.size() + 1); // the partials and evt: no regrowth
        param.partial.removeIf(p -> {
            if (policies.partialMatch().matches(p, evt)) {
                taken.add(p);
                return true;
            }
            return false;
        });
        return taken;
    }
}
