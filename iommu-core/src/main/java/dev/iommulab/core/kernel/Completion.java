package dev.iommulab.core.kernel;

import dev.iommulab.hw.sim.EventLoop;
import java.util.Objects;

/**
 * A {@code struct completion} (kernel/sched/completion.c): one context waits until another signals that
 * something finished. The waiter sleeps as a task in process context does: the event loop runs interrupts,
 * threads and hardware (see {@link EventLoop#runUntil(java.util.function.BooleanSupplier)}) until
 * {@link #complete()} is called.
 */
public final class Completion {

    private final String name;
    private final EventLoop loop;
    private boolean done;

    public Completion(String name, EventLoop loop) {
        this.name = Objects.requireNonNull(name, "name");
        this.loop = Objects.requireNonNull(loop, "loop");
    }

    /** Counterpart of reinit_completion(): a later wait sleeps until the next complete(). */
    public void reinit() {
        done = false;
    }

    /** Counterpart of complete(): wakes the waiter (or lets the next wait return at once). */
    public void complete() {
        done = true;
    }

    /** Counterpart of completion_done(). */
    public boolean done() {
        return done;
    }

    /**
     * Counterpart of wait_for_completion(): returns once completed, consuming the completion.
     *
     * @throws IllegalStateException when nothing is left to run and nobody completed it: the task would hang
     *                               forever (the kernel's hung-task warning), which is a bug in the model
     */
    public void waitFor() {
        if (!loop.runUntil(() -> done)) {
            throw new IllegalStateException("task blocked forever in wait_for_completion(" + name
                    + "): nothing left to run at " + loop.now() + " ns");
        }
        done = false;
    }
}
