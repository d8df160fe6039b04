package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;

/** Every page response io-pgfault sends, through {@code ops->page_response}, with its origin. */
final class Responses {

    private final FaultEvents events;
    private final EventLoop loop;

    Responses(FaultEvents events, EventLoop loop) {
        this.events = events;
        this.loop = loop;
    }

    /**
     * Counterpart of the body of iopf_group_response(): answers a group still pending and unlinks it;
     * nothing for a group already answered.
     */
    void group(Group group, PageResponseCode code, ResponseOrigin origin) {
        FaultParam param = group.param;
        if (!param.faults.remove(group)) {
            return;
        }
        IommuFault last = group.lastFault;
        if (loop.trace().enabled()) { // label() builds a string
            loop.trace().step(loop.now(), Layer.IOPF, "iopf_group_response", "%s PASID %d grpid %d -> %s (%s)",
                    param.dev.name(), last.pasid(), last.grpid(), code, origin.label());
        }
        send(param.dev, last, code, origin);
    }

    /** One response for the single event {@code evt} (bad setup, back-pressure). Only page requests. */
    void event(Device dev, IommuFault evt, PageResponseCode code, ResponseOrigin origin) {
        if (evt.type() == IommuFault.IOMMU_FAULT_PAGE_REQ) {
            send(dev, evt, code, origin);
        }
    }

    private void send(Device dev, IommuFault evt, PageResponseCode code, ResponseOrigin origin) {
        PageResponse resp = new PageResponse(evt.pasid(), evt.grpid(), code);
        events.pageResponse(dev, evt, resp, origin);
        dev.ops().pageResponse(dev, evt, resp);
    }
}
