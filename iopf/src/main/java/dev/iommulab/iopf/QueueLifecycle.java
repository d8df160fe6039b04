package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import java.util.List;

/**
 * The iopf_queue API of io-pgfault.c: add_device, remove_device, discard_partial, flush_dev and free
 * (reference §3.2-§3.6).
 */
final class QueueLifecycle {

    private final FaultParams params;
    private final GroupAssembly assembly;
    private final Responses responses;
    private final KernelLog log;
    private final FaultEvents events;

    QueueLifecycle(FaultParams params, GroupAssembly assembly, Responses responses, KernelLog log,
                   FaultEvents events) {
        this.events = events;
        this.params = params;
        this.assembly = assembly;
        this.responses = responses;
        this.log = log;
    }

    void addDevice(IopfQueue queue, Device dev) {
        if (!dev.ops().hasPageResponse()) {
            throw new KernelException(Errno.ENODEV, "dev", dev.ops().name() + " has no page_response");
        }
        if (params.published(dev) != null) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " is already on an iopf queue");
        }
        FaultParam param = new FaultParam(dev, queue);
        queue.devices.add(param);
        params.publish(param);
    }

    void removeDevice(IopfQueue queue, Device dev) {
        FaultParam param = params.published(dev);
        if (param == null || param.queue != queue) {
            log.warn("WARNING: iopf_queue_remove_device: %s is not on queue %s", dev.pciName(),
                    queue == null ? "(null)" : queue.name());
            return;
        }
        param.partial.clear();
        for (Group group : List.copyOf(param.faults)) {
            responses.group(group, PageResponseCode.INVALID, ResponseOrigin.REMOVE_DEVICE);
            assembly.freeGroup(group);
        }
        queue.devices.remove(param);
        params.unpublish(dev);
        params.put(param);
        events.faultParamRemoved(dev);
    }

    IopfQueue queueOf(Device dev) {
        FaultParam param = params.published(dev);
        return param == null ? null : param.queue;
    }

    void discardPartial(IopfQueue queue) {
        if (queue == null) {
            throw new KernelException(Errno.EINVAL, "queue", "is NULL");
        }
        for (FaultParam param : queue.devices) {
            param.partial.clear();
        }
    }

    void flushDev(Device dev, Runnable whenFlushed) {
        FaultParam param = params.get(dev);
        if (param == null) {
            log.warn("WARNING: %s: iopf_queue_flush_dev: no iopf fault param", dev.pciName());
            throw new KernelException(Errno.ENODEV, "dev", dev + " is not on an iopf queue");
        }
        try {
            param.queue.workqueue().flush(whenFlushed);
        } finally {
            params.put(param);
        }
    }

    void free(IopfQueue queue) {
        if (queue == null) {
            return;
        }
        for (FaultParam param : List.copyOf(queue.devices)) {
            removeDevice(queue, param.dev);
        }
        queue.workqueue().destroy();
    }
}
