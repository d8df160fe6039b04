package dev.iommulab.lab.run;

import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TraceEvent;
import dev.iommulab.hw.sim.TraceSink;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The journey of a run as its report shows it: the first {@code limit} steps in full, and how many steps each layer
 * took in all. A large run's journey is millions of steps; beyond the limit they are counted, not kept (nor their
 * messages formatted), so the run's memory does not grow with them.
 */
final class JourneyRecorder implements TraceSink {

    private final int limit;
    private final List<TraceEvent.Step> shown = new ArrayList<>();
    private final long[] byLayer = new long[Layer.values().length];

    JourneyRecorder(int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("journey limit must be >= 0: " + limit);
        }
        this.limit = limit;
    }

    @Override
    public void accept(TraceEvent event) {
        if (event instanceof TraceEvent.Step s) {
            byLayer[s.layer().ordinal()]++;
            if (shown.size() < limit) {
                shown.add(s);
            }
        }
    }

    @Override
    public boolean readsMessages() {
        return shown.size() < limit;
    }

    @Override
    public boolean readsDispatches() {
        return false;
    }

    /** The steps kept, in the order they happened. */
    List<TraceEvent.Step> shown() {
        return List.copyOf(shown);
    }

    /** Every step of the run, kept or not, per layer (layers without a step left out), in {@link Layer} order. */
    Map<Layer, Long> stepsByLayer() {
        Map<Layer, Long> out = new EnumMap<>(Layer.class);
        for (Layer layer : Layer.values()) {
            if (byLayer[layer.ordinal()] > 0) {
                out.put(layer, byLayer[layer.ordinal()]);
            }
        }
        return out;
    }
}
