package dev.iommulab.hw.sim;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;

/** Fans trace events out to the registered sinks. */
public final class Trace {

    private final List<TraceSink> sinks = new CopyOnWriteArrayList<>();

    public void addSink(TraceSink sink) {
        sinks.add(Objects.requireNonNull(sink, "sink"));
    }

    public void emit(TraceEvent event) {
        for (TraceSink sink : sinks) {
            sink.accept(event);
        }
    }

    /** Convenience for {@link TraceEvent.Step}. */
    public void step(long atNs, Layer layer, String symbol, String message) {
        if (!sinks.isEmpty()) {
            emit(new TraceEvent.Step(atNs, layer, symbol, message));
        }
    }
}
