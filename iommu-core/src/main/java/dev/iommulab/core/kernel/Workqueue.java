package dev.iommulab.core.kernel;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A kernel workqueue (alloc_workqueue with WQ_UNBOUND) on the event loop: each queued work item runs as
 * its own event one thread wake-up later. Items may complete in any order relative to each other.
 * A caller cannot block in this single-threaded simulation, so {@link #flush(Runnable)} takes a
 * continuation instead of waiting as flush_workqueue() does.
 */
public final class Workqueue {

    /** A flush waiting for every item whose sequence number is below {@code upTo}. */
    private record Waiter(long upTo, Runnable whenFlushed) {
    }

    private final String name;
    private final EventLoop loop;
    private final long wakeNs;
    private long queued;
    private long completed;
    private final TreeSet<Long> outstanding = new TreeSet<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private boolean destroyed;

    public Workqueue(String name, EventLoop loop, long wakeNs) {
        this.name = Objects.requireNonNull(name, "name");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.wakeNs = wakeNs;
    }

    public String name() {
        return name;
    }

    /**
     * Counterpart of queue_work(): {@code work} runs later on a worker.
     *
     * @throws IllegalStateException after {@link #destroy}
     */
    public void queueWork(String label, Runnable work) {
        if (destroyed) {
            throw new IllegalStateException("queue_work on destroyed workqueue " + name);
        }
        long seq = queued++;
        outstanding.add(seq);
        loop.schedule(wakeNs, name + ":" + label, () -> {
            try {
                work.run();
            } finally {
                completed++;
                outstanding.remove(seq);
                releaseWaiters();
            }
        });
    }

    /** Work items queued and not yet finished. */
    public long pending() {
        return queued - completed;
    }

    /**
     * Counterpart of flush_workqueue(): {@code whenFlushed} runs once every work item queued before this
     * call has finished (at once, before returning, when none is outstanding). Items queued later, even
     * by those items, are not waited for.
     */
    public void flush(Runnable whenFlushed) {
        Objects.requireNonNull(whenFlushed, "whenFlushed");
        Waiter waiter = new Waiter(queued, whenFlushed);
        if (isFlushed(waiter)) {
            whenFlushed.run();
        } else {
            waiters.add(waiter);
        }
    }

    /** Whether every item queued before a flush at this moment has finished (flush would not wait). */
    public boolean idleUpTo(long sequence) {
        return outstanding.isEmpty() || outstanding.first() >= sequence;
    }

    /** Sequence number the next queued item gets; a flush now waits for every number below it. */
    public long nextSequence() {
        return queued;
    }

    /**
     * Counterpart of destroy_workqueue(): drains (items already queued still run) and refuses new work.
     */
    public void destroy() {
        destroyed = true;
    }

    public boolean destroyed() {
        return destroyed;
    }

    private boolean isFlushed(Waiter waiter) {
        return idleUpTo(waiter.upTo());
    }

    private void releaseWaiters() {
        if (waiters.isEmpty()) {
            return;
        }
        List<Waiter> ready = waiters.stream().filter(this::isFlushed).toList();
        waiters.removeAll(ready);
        ready.forEach(w -> w.whenFlushed().run());
    }
}
