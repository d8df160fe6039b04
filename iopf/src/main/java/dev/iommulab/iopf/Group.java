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
    /** The zero-initialised on-stack group used when allocation failed. */
    final boolean abortGroup;
    AttachHandle attachHandle;
    boolean freed;

    Group(FaultParam param, IommuFault lastFault, List<IommuFault> faults, boolean abortGroup) {
        this.param = param;
        this.lastFault = lastFault;
        this.faults = List.copyOf(faults);
        this.abortGroup = abortGroup;
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
