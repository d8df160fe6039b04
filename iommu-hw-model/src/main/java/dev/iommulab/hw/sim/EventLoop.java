package dev.iommulab.hw.sim;

import java.util.Arrays;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * The simulation kernel of one machine: virtual time in nanoseconds and a queue of events ordered by
 * (time, sequence). Hardware raises interrupts, drivers run their IRQ threads and workqueues run their
 * items, all as events on this loop. There are no threads: {@link #runUntilIdle()} and
 * {@link #runFor(long)} dispatch events one at a time on the caller's thread.
 *
 * <p>Same events scheduled in the same order with the same seed give the same trace, byte for byte.
 *
 * <p>The queue is a binary min-heap on (time, sequence) written out over an array: every simulated step is an event,
 * and the comparison inlined here is most of what scheduling one costs. Each event knows its place in the heap, so
 * cancelling one takes it out at once: a timeout cancelled long before it was due (an ATS invalidation answered in
 * time) would otherwise stay in the heap until its time came, and every event scheduled meanwhile would sift past it.
 */
public final class EventLoop {

    /** Guard against a livelocked model: more events than this in one run call is a bug. */
    static final long MAX_EVENTS_PER_RUN = 50_000_000L;

    /** The events waiting to run (cancelled ones are taken out): a heap in {@code [0, size)}. */
    private ScheduledEvent[] queue = new ScheduledEvent[64];
    private int size;
    private final SimRandom random;
    private final Trace trace;
    private long now;
    private long nextSequence;
    private long dispatched;

    public EventLoop(long seed) {
        this(seed, new Trace());
    }

    public EventLoop(long seed, Trace trace) {
        this.random = new SimRandom(seed);
        this.trace = Objects.requireNonNull(trace, "trace");
    }

    /** Current virtual time in nanoseconds. */
    public long now() {
        return now;
    }

    public SimRandom random() {
        return random;
    }

    public Trace trace() {
        return trace;
    }

    /** Events dispatched since the loop was created. */
    public long dispatchedEvents() {
        return dispatched;
    }

    /** Number of events waiting to run (cancelled ones excluded). */
    public int pendingEvents() {
        return size;
    }

    public boolean isIdle() {
        return size == 0;
    }

    /**
     * Schedules {@code action} to run {@code delayNs} after now. Events at the same time run in the
     * order they were scheduled.
     *
     * @return a handle that can cancel the event before it runs (e.g. a timeout that is no longer needed)
     * @throws IllegalArgumentException if the delay is negative
     */
    public EventHandle schedule(long delayNs, String label, Runnable action) {
        if (delayNs < 0) {
            throw new IllegalArgumentException("delayNs must not be negative: " + delayNs);
        }
        return scheduleAt(now + delayNs, label, action);
    }

    /**
     * Schedules {@code action} at absolute virtual time {@code atNs}.
     *
     * @return a handle that can cancel the event before it runs
     * @throws IllegalArgumentException if {@code atNs} lies in the past
     */
    public EventHandle scheduleAt(long atNs, String label, Runnable action) {
        if (atNs < now) {
            throw new IllegalArgumentException("atNs " + atNs + " lies before now " + now);
        }
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(action, "action");
        ScheduledEvent event = new ScheduledEvent(atNs, nextSequence++, label, action);
        push(event);
        return event;
    }

    /** Dispatches events until none is left. */
    public void runUntilIdle() {
        long budget = MAX_EVENTS_PER_RUN;
        while (size > 0) {
            dispatchNext();
            if (--budget == 0) {
                throw new IllegalStateException("simulation did not become idle after "
                        + MAX_EVENTS_PER_RUN + " events; last time " + now + " ns");
            }
        }
    }

    /**
     * Dispatches every event due within the next {@code durationNs} and then advances time to
     * exactly now + durationNs.
     */
    public void runFor(long durationNs) {
        if (durationNs < 0) {
            throw new IllegalArgumentException("durationNs must not be negative: " + durationNs);
        }
        runUntil(now + durationNs);
    }

    /** Dispatches every event due at or before {@code deadlineNs}, then sets time to the deadline. */
    public void runUntil(long deadlineNs) {
        if (deadlineNs < now) {
            throw new IllegalArgumentException("deadlineNs " + deadlineNs + " lies before now " + now);
        }
        long budget = MAX_EVENTS_PER_RUN;
        while (size > 0 && queue[0].atNs() <= deadlineNs) {
            dispatchNext();
            if (--budget == 0) {
                throw new IllegalStateException("more than " + MAX_EVENTS_PER_RUN + " events before " + deadlineNs);
            }
        }
        now = deadlineNs;
    }

    /**
     * Dispatches events until {@code done} holds, without moving time past the last event dispatched: how a
     * task in process context sleeps (wait_for_completion(), a drain) while interrupts, threads and hardware
     * run. May be called from inside an event; the events it dispatches then run nested, as other contexts run
     * while the caller sleeps.
     *
     * @return true when {@code done} held (at once or after some events), false when no event was left first
     */
    public boolean runUntil(BooleanSupplier done) {
        long budget = MAX_EVENTS_PER_RUN;
        while (!done.getAsBoolean()) {
            if (size == 0) {
                return false;
            }
            dispatchNext();
            if (--budget == 0) {
                throw new IllegalStateException("condition not met after " + MAX_EVENTS_PER_RUN + " events; last time "
                        + now + " ns");
            }
        }
        return true;
    }

    private void dispatchNext() {
        ScheduledEvent event = queue[0];
        removeAt(0);
        event.done = true;
        now = event.atNs();
        dispatched++;
        if (trace.readsDispatches()) {
            trace.emit(new TraceEvent.Dispatch(event.atNs(), event.sequence(), event.label()));
        }
        event.action().run();
    }

    private void push(ScheduledEvent event) {
        if (size == queue.length) {
            queue = Arrays.copyOf(queue, size * 2);
        }
        siftUp(size++, event);
    }

    /** Takes out the event at {@code slot}, filling the hole with the last one. */
    private void removeAt(int slot) {
        queue[slot].slot = -1;
        ScheduledEvent last = queue[--size];
        queue[size] = null;
        if (slot == size) {
            return;
        }
        siftDown(slot, last);
        if (queue[slot] == last) {
            siftUp(slot, last);
        }
    }

    /** Puts {@code event} at {@code slot} or above, moving later parents down. */
    private void siftUp(int slot, ScheduledEvent event) {
        while (slot > 0) {
            int parent = (slot - 1) >>> 1;
            if (!event.before(queue[parent])) {
                break;
            }
            place(slot, queue[parent]);
            slot = parent;
        }
        place(slot, event);
    }

    /** Puts {@code event} at {@code slot} or below, moving earlier children up. */
    private void siftDown(int slot, ScheduledEvent event) {
        int half = size >>> 1;
        while (slot < half) {
            int child = 2 * slot + 1;
            if (child + 1 < size && queue[child + 1].before(queue[child])) {
                child++;
            }
            if (!queue[child].before(event)) {
                break;
            }
            place(slot, queue[child]);
            slot = child;
        }
        place(slot, event);
    }

    private void place(int slot, ScheduledEvent event) {
        queue[slot] = event;
        event.slot = slot;
    }

    /** A scheduled event; cancelling it after it ran (or twice) does nothing. */
    private final class ScheduledEvent implements EventHandle {
        private final long atNs;
        private final long sequence;
        private final String label;
        private final Runnable action;
        private boolean cancelled;
        private boolean done;
        /** Where the event is in the heap; -1 once it left it (dispatched or cancelled). */
        private int slot = -1;

        ScheduledEvent(long atNs, long sequence, String label, Runnable action) {
            this.atNs = atNs;
            this.sequence = sequence;
            this.label = label;
            this.action = action;
        }

        long atNs() {
            return atNs;
        }

        long sequence() {
            return sequence;
        }

        String label() {
            return label;
        }

        Runnable action() {
            return action;
        }

        @Override
        public void cancel() {
            if (!cancelled && !done) {
                cancelled = true;
                removeAt(slot);
            }
        }

        @Override
        public boolean cancelled() {
            return cancelled;
        }

        /** Whether this event runs before {@code other}: earlier, or as early and scheduled first. */
        boolean before(ScheduledEvent other) {
            return atNs < other.atNs || atNs == other.atNs && sequence < other.sequence;
        }
    }
}
