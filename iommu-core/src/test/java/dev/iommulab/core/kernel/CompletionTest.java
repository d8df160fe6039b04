package dev.iommulab.core.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.sim.EventLoop;
import org.junit.jupiter.api.Test;

/** {@link Completion}: wait_for_completion(), complete() and reinit_completion() of kernel/sched/completion.c. */
class CompletionTest {

    private final EventLoop loop = new EventLoop(1);
    private final Completion completion = new Completion("prq_complete", loop);

    /** wait_for_completion() sleeps until the completing context has run, at its time. */
    @Test
    void waitFor_completedLater_returnsAtThatTime() {
        loop.schedule(500, "thread", completion::complete);

        completion.waitFor();

        assertThat(loop.now()).isEqualTo(500);
        assertThat(completion.done()).isFalse();
    }

    /** A complete() before the wait lets it return at once; reinit_completion() forgets it. */
    @Test
    void waitFor_completedBeforeAndReinit_sleepsUntilNextComplete() {
        completion.complete();
        completion.waitFor();
        assertThat(loop.now()).isZero();

        completion.complete();
        completion.reinit();
        loop.schedule(70, "thread", completion::complete);
        completion.waitFor();

        assertThat(loop.now()).isEqualTo(70);
    }

    /** Nothing left that could complete it: the task would hang, reported as an error naming the completion. */
    @Test
    void waitFor_nothingLeftToRun_throwsNamingCompletion() {
        assertThatThrownBy(completion::waitFor).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("prq_complete");
    }
}
