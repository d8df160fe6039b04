package dev.iommulab.hw.sim;

import java.util.ArrayList;
import java.util.List;

/** Keeps every event it receives, for reports and tests. */
public final class RecordingTraceSink implements TraceSink {

    private final List<TraceEvent> events = new ArrayList<>();

    @Override
    public void accept(TraceEvent event) {
        events.add(event);
    }

    public List<TraceEvent> events() {
        return List.copyOf(events);
    }

    /** Only the journey steps, without event-loop dispatches. */
    public List<TraceEvent.Step> steps() {
        return events.stream()
                .filter(TraceEvent.Step.class::isInstance)
                .map(TraceEvent.Step.class::cast)
                .toList();
    }
}
