package dev.iommulab.core.fault;

import dev.iommulab.core.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * Observation points of the fault path for reports and invariant checks: every fault reported to the
 * core and every page response handed to a driver, with who decided it. Listeners must not change
 * simulation state.
 */
public final class FaultEvents {

    /** A listener of the fault path. */
    public interface Listener {
        default void faultReported(Device dev, IommuFault fault, int ret) {
        }

        default void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        }

        /**
         * A group is handed to its domain's iopf handler: {@code faults} in group order, the LPIG request
         * last (linux-fault-stack.md §8b.2).
         */
        default void groupDispatched(Device dev, List<IommuFault> faults) {
        }
    }

    private final List<Listener> listeners = new ArrayList<>();

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void faultReported(Device dev, IommuFault fault, int ret) {
        listeners.forEach(l -> l.faultReported(dev, fault, ret));
    }

    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        listeners.forEach(l -> l.pageResponse(dev, evt, response, origin));
    }

    public void groupDispatched(Device dev, List<IommuFault> faults) {
        listeners.forEach(l -> l.groupDispatched(dev, faults));
    }
}
