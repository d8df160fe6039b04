package dev.iommulab.core.kernel;

import dev.iommulab.hw.sim.EventLoop;
import java.util.Objects;

/**
 * A kernel workqueue (alloc_workqueue with WQ_UNBOUND) on the event loop: each queued work item runs as
 * its own event one thread wake-up later. Items may complete in any order relative to each other.
 */
public final class Workqueue {

    private final String name;
    private final EventLoop loop;
    private final long wakeNs;
    private long queued;
    private long completed;

    public Workqueue(String name, EventLoop loop, long wakeNs) {
        this.name = Objects.requireNonNull(name, "name");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.wakeNs = wakeNs;
    }

    public String name() {
        return name;
    }

    /** Counterpart of queue_work(): {@code work} runs later on a worker. */
    public void queueWork(String label, Runnable work) {
        queued++;
        loop.schedule(wakeNs, name + ":" + label, () -> {
            try {
                work.run();
            } finally {
                completed++;
            }
        });
    }

    /** Work items queued and not yet finished. */
    public long pending() {
        return queued - completed;
    }
}
