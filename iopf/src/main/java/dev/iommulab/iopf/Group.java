package dev.iommulab.iopf;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import java.util.List;

/** {@code struct iopf_group} as io-pgfault builds it. */
final class Group implements IopfGroup {

    final FaultParam param;
    final IommuFault lastFault;
    final List<IommuFault> faults;
    /** What the group-allocation policy gave for this group. */
    final GroupAllocation.Outcome outcome;
    AttachHandle attachHandle;
    boolean freed;

    Group(FaultParam param, IommuFault lastFault, List<IommuFault> faults, GroupAllocation.Outcome outcome) {
        this.param = param;
        this.lastFault = lastFault;
        this.faults = List.copyOf(faults);
        this.outcome = outcome;
    }

    /** The zero-initialised on-stack group used when allocation failed. */
    boolean abortGroup() {
        return outcome == GroupAllocation.Outcome.FAILED;
    }

    /** No group by policy: the request is answered INVALID as back-pressure. */
    boolean backPressure() {
        return outcome == GroupAllocation.Outcome.BACK_PRESSURE;
    }

    @Override
    public Device device() {
        return param.dev;
    }

    @Override
    public IommuFault lastFault() {
        return lastFault;
    }

    @Override
    public List<IommuFault> faults() {
        return faults;
    }

    @Override
    public AttachHandle attachHandle() {
        return attachHandle;
    }

    @Override
    public void queueWork(String label, Runnable work) {
        param.queue.workqueue().queueWork(label, work);
    }
}
