package dev.iommulab.hw.sim;

import java.util.List;
import java.util.Locale;
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

    /** Whether anyone listens; callers may skip building expensive messages otherwise. */
    public boolean enabled() {
        return !sinks.isEmpty();
    }

    /** Convenience for {@link TraceEvent.Step}. */
    public void step(long atNs, Layer layer, String symbol, String message) {
        if (!sinks.isEmpty()) {
            emit(new TraceEvent.Step(atNs, layer, symbol, message));
        }
    }

    /**
     * A {@link TraceEvent.Step} whose message is {@code String.format(Locale.ROOT, format, args)}, built only when a
     * sink listens and formatted only when a sink reads messages (the hot paths of the models trace every request).
     */
    public void step(long atNs, Layer layer, String symbol, String format, Object... args) {
        if (!sinks.isEmpty()) {
            TraceEvent.Step step = readsMessages()
                    ? new TraceEvent.Step(atNs, layer, symbol, String.format(Locale.ROOT, format, args))
                    : new TraceEvent.Step(atNs, layer, symbol, format, args);
            emit(step);
        }
    }

    /** Whether a sink wants the event loop's {@link TraceEvent.Dispatch} events. */
    public boolean readsDispatches() {
        for (TraceSink sink : sinks) {
            if (sink.readsDispatches()) {
                return true;
            }
        }
        return false;
    }

    private boolean readsMessages() {
        for (TraceSink sink : sinks) {
            if (sink.readsMessages()) {
                return true;
            }
        }
        return false;
    }

    /** {@code first} followed by {@code rest}, for trace helpers that add a prefix argument. */
    public static Object[] prepend(Object first, Object... rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }
}
