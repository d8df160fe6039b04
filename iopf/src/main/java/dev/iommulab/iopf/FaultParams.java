package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code dev->iommu->fault_param} of every device: publication, iopf_get_dev_fault_param() (inc-not-zero)
 * and iopf_put_dev_fault_param().
 */
final class FaultParams {

    private final Map<Device, FaultParam> published = new HashMap<>();

    FaultParam published(Device dev) {
        return published.get(dev);
    }

    void publish(FaultParam param) {
        published.put(param.dev, param);
    }

    void unpublish(Device dev) {
        published.remove(dev);
    }

    /** Counterpart of iopf_get_dev_fault_param(): null when unpublished or already at zero users. */
    FaultParam get(Device dev) {
        FaultParam param = published.get(dev);
        if (param == null || param.users == 0) {
            return null;
        }
        param.users++;
        return param;
    }

    /** Counterpart of iopf_put_dev_fault_param(). */
    void put(FaultParam param) {
        param.users--;
    }
}
