package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JourneyRecorderTest {

    /** An argument that counts how often it is formatted. */
    private static final class Counted {
        int formatted;

        @Override
        public String toString() {
            formatted++;
            return "x";
        }
    }

    @Test
    void accept_beyondLimit_countedPerLayerNotKept() {
        Trace trace = new Trace();
        JourneyRecorder journey = new JourneyRecorder(2);
        trace.addSink(journey);

        trace.step(1, Layer.DEVICE, "a", "one");
        trace.step(2, Layer.IOMMU, "b", "two %d", 2);
        trace.step(3, Layer.IOMMU, "c", "three");
        trace.step(4, Layer.SVA, "d", "four");

        assertThat(journey.shown()).extracting(TraceEvent.Step::message).containsExactly("one", "two 2");
        assertThat(journey.stepsByLayer()).containsExactly(Map.entry(Layer.DEVICE, 1L), Map.entry(Layer.IOMMU, 2L),
                Map.entry(Layer.SVA, 1L));
    }

    @Test
    void step_noSinkReadsMessages_notFormatted() {
        Trace trace = new Trace();
        JourneyRecorder journey = new JourneyRecorder(1);
        trace.addSink(journey);
        Counted kept = new Counted();
        Counted counted = new Counted();

        trace.step(1, Layer.DEVICE, "a", "%s", kept);
        trace.step(2, Layer.DEVICE, "b", "%s", counted);

        assertThat(kept.formatted).as("a kept step is formatted when it happens").isEqualTo(1);
        assertThat(counted.formatted).as("a step only counted is never formatted").isZero();
        assertThat(journey.readsMessages()).isFalse();
    }

    @Test
    void step_anotherSinkReadsMessages_formattedWhenItHappens() {
        Trace trace = new Trace();
        trace.addSink(new JourneyRecorder(0));
        trace.addSink(event -> { });
        Counted arg = new Counted();

        trace.step(1, Layer.DEVICE, "a", "%s", arg);

        assertThat(arg.formatted).isEqualTo(1);
    }

    @Test
    void message_lazyStep_sameTextAsEager() {
        Trace trace = new Trace();
        TraceEvent.Step[] seen = new TraceEvent.Step[1];
        trace.addSink(new dev.iommulab.hw.sim.TraceSink() {
            @Override
            public void accept(TraceEvent event) {
                seen[0] = (TraceEvent.Step) event;
            }

            @Override
            public boolean readsMessages() {
                return false;
            }
        });

        trace.step(5, Layer.IOPF, "iopf", "grpid %d at %#x", 3, 0x1000L);

        assertThat(seen[0]).isEqualTo(new TraceEvent.Step(5, Layer.IOPF, "iopf", "grpid 3 at 0x1000"));
        assertThat(seen[0].message()).isEqualTo("grpid 3 at 0x1000");
    }
}
