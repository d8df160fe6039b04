package dev.iommulab.core.fault;

import dev.iommulab.core.Device;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Observation points of the fault path for reports and invariant checks: every fault reported to the
 * core and every page response handed to a driver, with who decided it. Listeners must not change
 * simulation state.
 *
 * <p>Discovery hook: a new {@code FaultEvents} starts with one listener from each {@link ListenerFactory} that
 * {@link ServiceLoader} finds on the class path. Production code registers none, so a machine outside the tests has
 * no listener it did not add itself. The test fixtures ({@code dev.iommulab:fixtures}, a test-scope dependency of the
 * modules above the core) register one, the fault-path ledger, so that every stack a test wires is checked without
 * the test adding anything. The factories are looked up once per class loader.
 */
public final class FaultEvents {

    /** A listener of the fault path. */
    public interface Listener {
        /**
         * iommu_report_device_fault() was entered with {@code fault}; {@link #faultReported} follows when it returns.
         * A response the report sends inline (bad setup, err_abort, back-pressure, a handler answering at once) is
         * observed between the two.
         */
        default void faultReceived(Device dev, IommuFault fault) {
        }

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

        /**
         * iopf_queue_remove_device() unpublished the fault param of {@code dev}: its partials were freed and its
         * pending groups answered before this call (linux-fault-stack.md §3.5).
         */
        default void faultParamRemoved(Device dev) {
        }
    }

    /**
     * Makes the listener a new {@code FaultEvents} starts with (see the class comment). Implementations are
     * registered in {@code META-INF/services/dev.iommulab.core.fault.FaultEvents$ListenerFactory}; only test
     * fixtures register any.
     */
    public interface ListenerFactory {
        /** A fresh listener for one new {@code FaultEvents}; it must not change simulation state. */
        Listener newListener();
    }

    private static final List<ListenerFactory> FACTORIES = discover();

    /** Walked by index on every event: the fault path is hot and usually has no listener at all. */
    private final List<Listener> listeners = new ArrayList<>();

    /** A fault path with the discovered listeners only (none in production). */
    public FaultEvents() {
        FACTORIES.forEach(f -> listeners.add(f.newListener()));
    }

    private static List<ListenerFactory> discover() {
        List<ListenerFactory> found = new ArrayList<>();
        ServiceLoader.load(ListenerFactory.class, FaultEvents.class.getClassLoader()).forEach(found::add);
        return List.copyOf(found);
    }

    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    public void faultReceived(Device dev, IommuFault fault) {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).faultReceived(dev, fault);
        }
    }

    public void faultReported(Device dev, IommuFault fault, int ret) {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).faultReported(dev, fault, ret);
        }
    }

    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).pageResponse(dev, evt, response, origin);
        }
    }

    public void groupDispatched(Device dev, List<IommuFault> faults) {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).groupDispatched(dev, faults);
        }
    }

    public void faultParamRemoved(Device dev) {
        for (int i = 0; i < listeners.size(); i++) {
            listeners.get(i).faultParamRemoved(dev);
        }
    }
}
