package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** queue_work() on an unbound workqueue: items run as events one worker wake-up later. */
class WorkqueueTest {

    private static final long WAKE_NS = 2_000;

    private final EventLoop loop = new EventLoop(1);
    private final Workqueue wq = new Workqueue("iopf_queue/dmar0", loop, WAKE_NS);

    /**
     * A queued item does not run before the wake latency and runs exactly at it; pending() counts it until
     * it finished. queue_work(); reference §1.5, §2.5.
     */
    @Test
    void queueWork_item_runsAfterWakeLatency() {
        List<Long> ranAt = new ArrayList<>();

        wq.queueWork("w", () -> ranAt.add(loop.now()));

        assertThat(wq.pending()).isEqualTo(1);
        loop.runFor(WAKE_NS - 1);
        assertThat(ranAt).isEmpty();
        assertThat(wq.pending()).isEqualTo(1);

        loop.runFor(1);
        assertThat(ranAt).containsExactly(WAKE_NS);
        assertThat(wq.pending()).isZero();
    }

    /**
     * Items queued from a running item run one more wake-up later; all finish and pending() drops to zero.
     * queue_work(); reference §2.5.
     */
    @Test
    void queueWork_fromWorker_runsOneWakeLater() {
        List<Long> ranAt = new ArrayList<>();
        wq.queueWork("first", () -> {
            ranAt.add(loop.now());
            wq.queueWork("second", () -> ranAt.add(loop.now()));
        });

        loop.runUntilIdle();

        assertThat(ranAt).containsExactly(WAKE_NS, 2 * WAKE_NS);
        assertThat(wq.pending()).isZero();
        assertThat(wq.name()).isEqualTo("iopf_queue/dmar0");
    }

    /**
     * flush_workqueue() waits for every item queued before the call, not for items queued after it; the
     * continuation runs when the last earlier item finished. Reference §3.3, invariant §8b.5.
     */
    @Test
    void flush_itemsQueuedBefore_runsContinuationAfterTheLastOfThem() {
        List<String> order = new ArrayList<>();
        wq.queueWork("a", () -> order.add("a"));
        wq.queueWork("b", () -> order.add("b"));

        wq.flush(() -> order.add("flushed@" + loop.now()));
        wq.queueWork("later", () -> loop.schedule(10 * WAKE_NS, "slow", () -> order.add("slow")));

        assertThat(order).isEmpty();
        loop.runUntilIdle();
        assertThat(order).startsWith("a", "b", "flushed@" + WAKE_NS).endsWith("slow");
    }

    /** flush_workqueue() on an idle workqueue returns at once: the continuation runs before flush returns. */
    @Test
    void flush_nothingOutstanding_runsContinuationImmediately() {
        List<String> order = new ArrayList<>();

        wq.flush(() -> order.add("flushed"));

        assertThat(order).containsExactly("flushed");
    }

    /** destroy_workqueue() lets queued items run and refuses new ones. */
    @Test
    void destroy_queuedItem_stillRunsAndNewWorkIsRefused() {
        List<String> order = new ArrayList<>();
        wq.queueWork("a", () -> order.add("a"));

        wq.destroy();
        loop.runUntilIdle();

        assertThat(order).containsExactly("a");
        assertThat(wq.destroyed()).isTrue();
        org.assertj.core.api.Assertions.assertThatIllegalStateException()
                .isThrownBy(() -> wq.queueWork("b", () -> { }));
    }
}
