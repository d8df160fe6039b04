package dev.iommulab.hw.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The loop makes {@link TraceEvent.Dispatch} events only while a sink reads them. */
class TraceSinkInterestTest {

    private static final class StepsOnly implements TraceSink {
        final List<TraceEvent> seen = new ArrayList<>();

        @Override
        public void accept(TraceEvent event) {
            seen.add(event);
        }

        @Override
        public boolean readsDispatches() {
            return false;
        }
    }

    @Test
    void dispatch_noSinkReadsDispatches_onlyStepsReachTheSink() {
        EventLoop loop = new EventLoop(1);
        StepsOnly sink = new StepsOnly();
        loop.trace().addSink(sink);

        loop.schedule(5, "work", () -> loop.trace().step(loop.now(), Layer.LAB, "work", "did %d", 1));
        loop.runUntilIdle();

        assertThat(sink.seen).singleElement().isInstanceOf(TraceEvent.Step.class);
        assertThat(loop.dispatchedEvents()).isEqualTo(1);
    }

    @Test
    void dispatch_anotherSinkReadsDispatches_everySinkGetsThem() {
        EventLoop loop = new EventLoop(1);
        StepsOnly sink = new StepsOnly();
        loop.trace().addSink(sink);
        loop.trace().addSink(event -> { });

        loop.schedule(5, "work", () -> { });
        loop.runUntilIdle();

        assertThat(sink.seen).singleElement().isInstanceOf(TraceEvent.Dispatch.class);
    }
}
