package dev.iommulab.hw.sim;

/** Receives trace events. Called on the simulation thread, in order; must not schedule events. */
@FunctionalInterface
public interface TraceSink {

    void accept(TraceEvent event);

    /**
     * Whether this sink reads the messages of the steps it is given now. While no sink does (one that only counts
     * steps, or has kept all it will show), {@link Trace} passes steps whose message is formatted only if asked for.
     */
    default boolean readsMessages() {
        return true;
    }

    /** Whether this sink wants {@link TraceEvent.Dispatch} events; while no sink does, the loop makes none. */
    default boolean readsDispatches() {
        return true;
    }
}
