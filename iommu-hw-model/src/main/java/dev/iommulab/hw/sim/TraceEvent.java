package dev.iommulab.hw.sim;

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
     * (or hardware) symbol that did it, and what it did.
     */
    record Step(long atNs, Layer layer, String symbol, String message) implements TraceEvent {
        public Step {
            Objects.requireNonNull(layer, "layer");
            Objects.requireNonNull(symbol, "symbol");
            Objects.requireNonNull(message, "message");
        }
    }
}
