package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ATS invalidation tag tracker of VT-d (tags per requester, VT-d spec §6.5.2.5) and RISC-V (32 shared
 * tags, the reference model's {@code itag_tracker}): tags handed out lowest first, retirement by completion or
 * timeout, completions for tags with nothing outstanding, and the barrier a wait checks.
 */
class AtsInvalidationTrackerTest {

    private static final long TIMEOUT = 1_000;
    private static final int A = 0x10;
    private static final int B = 0x18;

    private final EventLoop loop = new EventLoop(1);
    private final PcieFabric fabric = new PcieFabric(loop, 10);
    private final List<AtsInvalidateRequest> received = new ArrayList<>();
    private final List<String> heard = new ArrayList<>();

    private AtsInvalidationTracker tracker(AtsInvalidationTracker.TagScope scope) {
        for (int rid : new int[] {A, B}) {
            fabric.attach(new PcieFunction() {
                @Override
                public int rid() {
                    return rid;
                }

                @Override
                public void prgResponse(PrgResponse response) {
                }

                @Override
                public void atsInvalidate(AtsInvalidateRequest request) {
                    received.add(request);
                }
            });
        }
        return new AtsInvalidationTracker(loop, fabric, scope, TIMEOUT, "test-timeout",
                new AtsInvalidationTracker.Listener() {
                    @Override
                    public void timedOut(int rid, int itag) {
                        heard.add(String.format("timeout %x/%d at %d", rid, itag, loop.now()));
                    }

                    @Override
                    public void notOutstanding(int rid, int itag) {
                        heard.add(String.format("stray %x/%d", rid, itag));
                    }
                });
    }

    private static AtsInvalidateRequest send(AtsInvalidationTracker t, int rid) {
        return t.send(rid, true, 5, false, 0x7000, 4096);
    }

    @ParameterizedTest
    @EnumSource(AtsInvalidationTracker.TagScope.class)
    void send_freeTag_requestReachesFunctionWithLowestTag(AtsInvalidationTracker.TagScope scope) {
        AtsInvalidationTracker t = tracker(scope);

        AtsInvalidateRequest first = send(t, A);
        AtsInvalidateRequest second = send(t, A);
        loop.runFor(10);

        assertThat(first).isEqualTo(new AtsInvalidateRequest(A, true, 5, false, 0x7000, 4096, 0));
        assertThat(second.itag()).isEqualTo(1);
        assertThat(received).containsExactly(first, second);
        assertThat(t.issued()).isEqualTo(2);
        assertThat(t.outstandingCount()).isEqualTo(2);
    }

    @Test
    void send_perRequesterAllTagsOfOneRequesterBusy_otherRequesterStillGetsTag0() {
        AtsInvalidationTracker t = tracker(AtsInvalidationTracker.TagScope.PER_REQUESTER);
        for (int i = 0; i < AtsInvalidationTracker.TAGS; i++) {
            send(t, A);
        }

        assertThat(send(t, A)).isNull();
        assertThat(send(t, B).itag()).isZero();
        assertThat(t.outstandingCount()).isEqualTo(33);
    }

    @Test
    void send_sharedTagsAllBusy_noRequesterGetsATag() {
        AtsInvalidationTracker t = tracker(AtsInvalidationTracker.TagScope.SHARED);
        for (int i = 0; i < AtsInvalidationTracker.TAGS; i++) {
            send(t, i % 2 == 0 ? A : B);
        }

        assertThat(send(t, A)).isNull();
        assertThat(send(t, B)).isNull();
        assertThat(t.issued()).isEqualTo(32);
    }

    @ParameterizedTest
    @EnumSource(AtsInvalidationTracker.TagScope.class)
    void completion_outstandingTags_retiredTimersCancelledTagReused(AtsInvalidationTracker.TagScope scope) {
        AtsInvalidationTracker t = tracker(scope);
        send(t, A);
        send(t, A);
        send(t, A);

        int retired = t.completion(A, 0b101);

        assertThat(retired).isEqualTo(2);
        assertThat(t.outstandingCount()).isEqualTo(1);
        loop.runUntil(TIMEOUT);
        assertThat(heard).as("only tag 1 times out").containsExactly("timeout 10/1 at 1000");
        assertThat(send(t, A).itag()).isZero();
    }

    @ParameterizedTest
    @EnumSource(AtsInvalidationTracker.TagScope.class)
    void completion_tagNotOutstandingForRequester_reportedNotRetired(AtsInvalidationTracker.TagScope scope) {
        AtsInvalidationTracker t = tracker(scope);
        send(t, A);

        int retired = t.completion(B, 0b11);

        assertThat(retired).isZero();
        assertThat(heard).containsExactly("stray 18/0", "stray 18/1");
        assertThat(t.outstandingCount()).isEqualTo(1);
    }

    @Test
    void timeout_unanswered_retiredAndListenerToldOnce() {
        AtsInvalidationTracker t = tracker(AtsInvalidationTracker.TagScope.SHARED);
        send(t, B);
        loop.runFor(TIMEOUT - 1);
        assertThat(heard).isEmpty();

        loop.runUntilIdle();

        assertThat(heard).containsExactly("timeout 18/0 at 1000");
        assertThat(t.outstandingCount()).isZero();
        assertThat(t.completion(B, 1)).as("a late completion retires nothing").isZero();
    }

    @Test
    void retiredBefore_barrier_onlyEarlierRequestsCount() {
        AtsInvalidationTracker t = tracker(AtsInvalidationTracker.TagScope.PER_REQUESTER);
        send(t, A);
        long barrier = t.issued();
        send(t, B);

        assertThat(t.retiredBefore(barrier)).isFalse();
        t.completion(A, 1);
        assertThat(t.retiredBefore(barrier)).isTrue();
        assertThat(t.retiredBefore(t.issued())).isFalse();
    }
}
