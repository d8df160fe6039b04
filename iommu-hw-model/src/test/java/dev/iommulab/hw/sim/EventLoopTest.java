package dev.iommulab.hw.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Ordering and time-keeping of {@link EventLoop}. Derives from DESIGN.md §2: "one EventLoop per
 * machine: virtual time in nanoseconds, events ordered by (time, sequence)".
 */
class EventLoopTest {

    private final EventLoop loop = new EventLoop(42);
    private final List<String> ran = new ArrayList<>();

    private Runnable record(String name) {
        return () -> ran.add(name + "@" + loop.now());
    }

    /**
     * Thousands of events at few distinct times, some scheduled from inside events and some cancelled: they run in
     * (time, sequence) order, the order a sort of what was scheduled gives, and no cancelled one runs.
     */
    @Test
    void runUntilIdle_manyEventsSomeCancelled_runInTimeThenSequenceOrder() {
        SimRandom random = new SimRandom(3);
        List<long[]> expected = new ArrayList<>();
        List<long[]> order = new ArrayList<>();
        long[] sequence = {0};
        for (int i = 0; i < 3_000; i++) {
            scheduleTracked(random, expected, order, sequence, i % 3 == 0);
        }
        loop.runUntilIdle();

        expected.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        assertThat(order).hasSize(expected.size()).isNotEmpty();
        for (int i = 0; i < order.size(); i++) {
            assertThat(order.get(i)).as("event %d", i).containsExactly(expected.get(i));
        }
    }

    private void scheduleTracked(SimRandom random, List<long[]> expected, List<long[]> order, long[] sequence,
                                 boolean spawns) {
        long[] id = {loop.now() + random.nextInt(50), sequence[0]++};
        EventHandle handle = loop.scheduleAt(id[0], "e", () -> {
            order.add(id);
            if (spawns && order.size() < 4_000) {
                scheduleTracked(random, expected, order, sequence, false);
            }
        });
        if (random.nextInt(5) == 0) {
            handle.cancel();
        } else {
            expected.add(id);
        }
    }

    /** Cancelled timeouts far ahead neither run nor count as pending; the work scheduled after them runs alone. */
    @Test
    void cancel_farFutureTimeouts_neitherRunNorCountAsPending() {
        for (int i = 0; i < 100; i++) {
            loop.schedule(60_000_000_000L + i, "timeout", record("timeout" + i)).cancel();
        }
        loop.schedule(5, "work", record("work"));

        assertThat(loop.pendingEvents()).isEqualTo(1);
        loop.runUntilIdle();

        assertThat(ran).containsExactly("work@5");
        assertThat(loop.isIdle()).isTrue();
    }

    /** DESIGN.md §2: events at the same time run in the order they were scheduled (sequence). */
    @Test
    void runUntilIdle_sameTimeEvents_runInSchedulingOrder() {
        loop.schedule(10, "a", record("a"));
        loop.schedule(10, "b", record("b"));
        loop.schedule(10, "c", record("c"));

        loop.runUntilIdle();

        assertThat(ran).containsExactly("a@10", "b@10", "c@10");
    }

    /** DESIGN.md §2: the earlier time runs first, whatever order the events were scheduled in. */
    @Test
    void runUntilIdle_eventsScheduledOutOfTimeOrder_runEarliestFirst() {
        loop.schedule(30, "late", record("late"));
        loop.schedule(10, "early", record("early"));
        loop.scheduleAt(20, "middle", record("middle"));

        loop.runUntilIdle();

        assertThat(ran).containsExactly("early@10", "middle@20", "late@30");
    }

    /**
     * DESIGN.md §2 (time, sequence) order: an event scheduled with delay 0 from inside an event runs
     * after the events already queued for the same instant.
     */
    @Test
    void schedule_zeroDelayFromInsideEvent_runsAfterEventsAlreadyDueNow() {
        loop.schedule(5, "parent", () -> {
            ran.add("parent@" + loop.now());
            loop.schedule(0, "child", record("child"));
        });
        loop.schedule(5, "sibling", record("sibling"));

        loop.runUntilIdle();

        assertThat(ran).containsExactly("parent@5", "sibling@5", "child@5");
    }

    /** runFor runs events due up to and including the deadline and leaves later ones pending. */
    @Test
    void runFor_eventsBeyondDeadline_remainPendingAndTimeIsDeadline() {
        loop.schedule(5, "a", record("a"));
        loop.schedule(10, "b", record("b"));
        loop.schedule(15, "c", record("c"));

        loop.runFor(10);

        assertThat(ran).containsExactly("a@5", "b@10");
        assertThat(loop.now()).isEqualTo(10);
        assertThat(loop.pendingEvents()).isEqualTo(1);
        assertThat(loop.isIdle()).isFalse();

        loop.runFor(4);

        assertThat(ran).hasSize(2);
        assertThat(loop.now()).isEqualTo(14);

        loop.runFor(1);

        assertThat(ran).containsExactly("a@5", "b@10", "c@15");
        assertThat(loop.now()).isEqualTo(15);
        assertThat(loop.isIdle()).isTrue();
    }

    /** runFor advances virtual time exactly to the deadline, also when no event lies on it. */
    @Test
    void runFor_noEventAtDeadline_advancesTimeExactlyToDeadline() {
        loop.schedule(3, "a", record("a"));

        loop.runFor(1_000);

        assertThat(ran).containsExactly("a@3");
        assertThat(loop.now()).isEqualTo(1_000);

        loop.schedule(1, "b", record("b"));
        loop.runUntilIdle();

        assertThat(ran).containsExactly("a@3", "b@1001");
    }

    /** runUntilIdle also runs the events that events schedule, and stops at the last one's time. */
    @Test
    void runUntilIdle_eventsSpawnChildren_runsAllAndEndsAtLastEventTime() {
        loop.schedule(100, "root", () -> {
            ran.add("root@" + loop.now());
            loop.schedule(50, "child", () -> {
                ran.add("child@" + loop.now());
                loop.schedule(25, "grandchild", record("grandchild"));
            });
        });

        loop.runUntilIdle();

        assertThat(ran).containsExactly("root@100", "child@150", "grandchild@175");
        assertThat(loop.now()).isEqualTo(175);
        assertThat(loop.isIdle()).isTrue();
        assertThat(loop.dispatchedEvents()).isEqualTo(3);
    }

    /** EventLoop.schedule contract: a negative delay is rejected and nothing is queued. */
    @Test
    void schedule_negativeDelay_throwsAndQueuesNothing() {
        assertThatThrownBy(() -> loop.schedule(-1, "bad", record("bad")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-1");

        assertThat(loop.pendingEvents()).isZero();
    }

    /** EventLoop.scheduleAt contract: an absolute time before now is rejected. */
    @Test
    void scheduleAt_timeInThePast_throwsAndQueuesNothing() {
        loop.runFor(100);

        assertThatThrownBy(() -> loop.scheduleAt(99, "bad", record("bad")))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(loop.pendingEvents()).isZero();
    }

    /** runFor and runUntil never move time backwards. */
    @Test
    void runFor_negativeDuration_throwsAndKeepsTime() {
        loop.runFor(50);

        assertThatThrownBy(() -> loop.runFor(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> loop.runUntil(49)).isInstanceOf(IllegalArgumentException.class);

        assertThat(loop.now()).isEqualTo(50);
    }

    /** Every dispatch is traced with its time, sequence number and label, in dispatch order. */
    @Test
    void runUntilIdle_withSink_emitsOneDispatchEventPerEvent() {
        Trace trace = new Trace();
        RecordingTraceSink sink = new RecordingTraceSink();
        trace.addSink(sink);
        EventLoop traced = new EventLoop(1, trace);
        traced.schedule(20, "second", () -> { });
        traced.schedule(10, "first", () -> { });

        traced.runUntilIdle();

        assertThat(sink.events()).containsExactly(
                new TraceEvent.Dispatch(10, 1, "first"),
                new TraceEvent.Dispatch(20, 0, "second"));
        assertThat(sink.steps()).isEmpty();
    }

    /** A sleeping caller: events run only until the condition holds; later ones stay queued, time stays put. */
    @Test
    void runUntilCondition_conditionMetMidway_stopsThereAndLeavesLaterEvents() {
        boolean[] done = {false};
        loop.schedule(10, "a", record("a"));
        loop.schedule(20, "wake", () -> done[0] = true);
        loop.schedule(30, "late", record("late"));

        boolean held = loop.runUntil(() -> done[0]);

        assertThat(held).isTrue();
        assertThat(ran).containsExactly("a@10");
        assertThat(loop.now()).isEqualTo(20);
        assertThat(loop.pendingEvents()).isEqualTo(1);
    }

    /** Nothing left to run and the condition still false: the sleeper would never wake. */
    @Test
    void runUntilCondition_loopRunsDry_returnsFalse() {
        loop.schedule(10, "a", record("a"));

        assertThat(loop.runUntil(() -> false)).isFalse();
        assertThat(ran).containsExactly("a@10");
        assertThat(loop.isIdle()).isTrue();
    }

    /** Called from inside an event (a sleeping thread), the events it waits for run nested, in order. */
    @Test
    void runUntilCondition_fromInsideEvent_runsLaterEventsNested() {
        boolean[] done = {false};
        loop.schedule(10, "sleeper", () -> {
            ran.add("sleep@" + loop.now());
            loop.runUntil(() -> done[0]);
            ran.add("woke@" + loop.now());
        });
        loop.schedule(15, "other", record("other"));
        loop.schedule(25, "wake", () -> done[0] = true);

        loop.runUntilIdle();

        assertThat(ran).containsExactly("sleep@10", "other@15", "woke@25");
    }
}
