package dev.iommulab.hw.sim;

/** Receives trace events. Called on the simulation thread, in order; must not schedule events. */
@FunctionalInterface
public interface TraceSink {
    void accept(TraceEvent event);
}
