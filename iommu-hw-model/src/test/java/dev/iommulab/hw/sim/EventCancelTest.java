package dev.iommulab.hw.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A cancelled event never runs, no longer counts as pending, and does not move virtual time. */
class EventCancelTest {

    @Test
    void cancel_beforeItRuns_eventSkippedAndTimeStopsAtLastLiveEvent() {
        EventLoop loop = new EventLoop(1);
        List<String> ran = new ArrayList<>();
        loop.schedule(10, "a", () -> ran.add("a"));
        EventHandle timeout = loop.schedule(60_000_000_000L, "timeout", () -> ran.add("timeout"));

        timeout.cancel();
        loop.runUntilIdle();

        assertThat(ran).containsExactly("a");
        assertThat(loop.now()).isEqualTo(10);
        assertThat(loop.isIdle()).isTrue();
        assertThat(timeout.cancelled()).isTrue();
    }

    @Test
    void cancel_afterItRanOrTwice_noEffect() {
        EventLoop loop = new EventLoop(1);
        EventHandle h = loop.schedule(5, "x", () -> { });
        loop.runUntilIdle();

        h.cancel();
        h.cancel();

        assertThat(h.cancelled()).isFalse();
        assertThat(loop.pendingEvents()).isZero();
        loop.schedule(1, "y", () -> { });
        assertThat(loop.pendingEvents()).isEqualTo(1);
    }

    @Test
    void runFor_cancelledEventInWindow_skippedAndLaterEventsKept() {
        EventLoop loop = new EventLoop(1);
        List<String> ran = new ArrayList<>();
        loop.schedule(5, "cancelled", () -> ran.add("cancelled")).cancel();
        loop.schedule(7, "kept", () -> ran.add("kept"));
        loop.schedule(50, "later", () -> ran.add("later"));

        loop.runFor(20);

        assertThat(ran).containsExactly("kept");
        assertThat(loop.now()).isEqualTo(20);
        assertThat(loop.pendingEvents()).isEqualTo(1);
    }
}
