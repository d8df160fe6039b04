package dev.iommulab.hw.sim;

import java.util.Locale;
import java.util.Objects;

/** What the simulation reports while it runs. Sinks receive every event in virtual-time order. */
public sealed interface TraceEvent permits TraceEvent.Dispatch, TraceEvent.Step {

    long atNs();

    /** The event loop ran the event {@code label} scheduled as number {@code sequence}. */
    record Dispatch(long atNs, long sequence, String label) implements TraceEvent {
        public Dispatch {
            Objects.requireNonNull(label, "label");
        }
    }

    /**
     * One step of the fault's journey, told in kernel terms: the layer it happened in, the kernel
     * (or hardware) symbol that did it, and what it did. {@link Trace} formats the message when the step happens if
     * any sink reads messages ({@link TraceSink#readsMessages()}); otherwise on first use, so sinks that only count
     * steps (a large run's journey beyond what its report shows) never pay for the formatting.
     */
    final class Step implements TraceEvent {

        private final long atNs;
        private final Layer layer;
        private final String symbol;
        private final String format;
        private final Object[] args;
        private String message;

        /** A step whose message is already text. */
        public Step(long atNs, Layer layer, String symbol, String message) {
            this(atNs, layer, symbol, Objects.requireNonNull(message, "message"), null);
            this.message = message;
        }

        /** A step whose message is {@code String.format(Locale.ROOT, format, args)}, formatted on first use. */
        Step(long atNs, Layer layer, String symbol, String format, Object[] args) {
            this.atNs = atNs;
            this.layer = Objects.requireNonNull(layer, "layer");
            this.symbol = Objects.requireNonNull(symbol, "symbol");
            this.format = Objects.requireNonNull(format, "format");
            this.args = args;
        }

        @Override
        public long atNs() {
            return atNs;
        }

        public Layer layer() {
            return layer;
        }

        public String symbol() {
            return symbol;
        }

        public String message() {
            if (message == null) {
                message = String.format(Locale.ROOT, format, args);
            }
            return message;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Step s && s.atNs == atNs && s.layer == layer && s.symbol.equals(symbol)
                    && s.message().equals(message());
        }

        @Override
        public int hashCode() {
            return Objects.hash(atNs, layer, symbol, message());
        }

        @Override
        public String toString() {
            return "Step[atNs=" + atNs + ", layer=" + layer + ", symbol=" + symbol + ", message=" + message() + "]";
        }
    }
}
