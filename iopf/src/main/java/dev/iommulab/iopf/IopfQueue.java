package dev.iommulab.iopf;

import dev.iommulab.core.kernel.Workqueue;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * {@code struct iopf_queue}: one per IOMMU instance, with the devices whose faults it serves and the
 * unbound workqueue their groups run on. Created by {@link Iopf#queueAlloc}.
 */
public final class IopfQueue {

    private final String name;
    private final Workqueue wq;
    final List<FaultParam> devices = new ArrayList<>();

    IopfQueue(String name, Workqueue wq) {
        this.name = name;
        this.wq = wq;
    }

    public String name() {
        return name;
    }

    public Workqueue workqueue() {
        return wq;
    }

    /** Names of the devices currently on the queue. */
    public List<String> deviceNames() {
        return Collections.unmodifiableList(devices.stream().map(p -> p.dev.name()).toList());
    }
}
