package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code struct iommu_fault_param}: a device's partial list (non-LPIG requests waiting for their LPIG,
 * kept in arrival order) and its pending groups (responses still owed), with the reference count.
 */
final class FaultParam {

    final Device dev;
    final IopfQueue queue;
    final List<IommuFault> partial = new ArrayList<>();
    final List<Group> faults = new ArrayList<>();
    int users = 1;

    FaultParam(Device dev, IopfQueue queue) {
        this.dev = dev;
        this.queue = queue;
    }
}
