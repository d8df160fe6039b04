package dev.iommulab.iopf;

import static dev.iommulab.iopf.IopfFixture.VA;
import static dev.iommulab.iopf.IopfFixture.last;
import static dev.iommulab.iopf.IopfFixture.partial;
import static dev.iommulab.iopf.IopfFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** iopf_queue_flush_dev() and iopf_queue_free(). */
class IopfFlushAndFreeTest {

    private static final int PASID = 5;

    private IopfFixture f;
    private Device d1;
    private Device d2;

    @BeforeEach
    void setUp() {
        f = new IopfFixture();
        d1 = f.probeOnQueue("accel0", 0x0100);
        d2 = f.probeOnQueue("accel1", 0x0200);
        f.attach(d1, PASID, DomainType.SVA, f.svaLikeHandler());
        f.attach(d2, PASID, DomainType.SVA, f.svaLikeHandler());
    }

    /**
     * iopf_queue_flush_dev(D1) with SVA groups of D1 and D2 queued: the continuation runs only after both
     * workers finished (the whole queue is flushed), not before. Reference §8 item 23, §3.3, invariant §8b.5.
     */
    @Test
    void item23_flush_continuesOnlyAfterBothDevicesWorkersFinished() {
        f.iopf.reportDeviceFault(d1, last(PASID, 1, VA));
        f.iopf.reportDeviceFault(d2, last(PASID, 2, VA));
        List<Integer> responsesAtFlush = new ArrayList<>();

        f.iopf.queueFlushDev(d1, () -> responsesAtFlush.add(f.ops.responses().size()));

        assertThat(responsesAtFlush).isEmpty();
        f.loop.runUntilIdle();
        assertThat(responsesAtFlush).containsExactly(2);
        assertThat(f.queue.workqueue().pending()).isZero();
    }

    /**
     * iopf_queue_flush_dev() does not wait for work queued after the call.
     * Reference §3.3.
     */
    @Test
    void queueFlushDev_workQueuedAfterTheCall_isNotWaitedFor() {
        f.iopf.reportDeviceFault(d1, last(PASID, 1, VA));
        List<Integer> responsesAtFlush = new ArrayList<>();
        f.iopf.queueFlushDev(d1, () -> responsesAtFlush.add(f.ops.responses().size()));
        f.loop.runFor(1);
        f.iopf.reportDeviceFault(d2, last(PASID, 2, VA));

        f.loop.runUntilIdle();

        assertThat(responsesAtFlush).containsExactly(1);
        assertThat(f.ops.responses()).hasSize(2);
    }

    /** iopf_queue_flush_dev() with nothing queued continues at once; partials are not touched. Reference §3.3. */
    @Test
    void queueFlushDev_nothingQueued_continuesImmediatelyAndKeepsPartials() {
        f.iopf.reportDeviceFault(d1, partial(PASID, 3, VA));
        List<String> flushed = new ArrayList<>();

        f.iopf.queueFlushDev(d1, () -> flushed.add("done"));

        assertThat(flushed).containsExactly("done");
        assertThat(f.iopf.partials(d1)).hasSize(1);
        assertThat(f.iopf.faultParamUsers(d1)).isEqualTo(1);
    }

    /**
     * iopf_queue_flush_dev() for a device without fault param: WARN and -ENODEV; the continuation never
     * runs. Reference §8 item 23, §3.3.
     */
    @Test
    void item23_flushDeviceWithoutParam_warnsAndThrowsEnodev() {
        Device loose = f.probe("accel2", 0x0300);
        List<String> flushed = new ArrayList<>();

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.iopf.queueFlushDev(loose, () -> flushed.add("done")));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(flushed).isEmpty();
        assertThat(f.log.lines()).singleElement().extracting(KernelLog.Line::level)
                .isEqualTo(KernelLog.Level.WARNING);
    }

    /**
     * iopf_queue_free() with registered devices behaves like remove_device for each (INVALID to pending
     * groups, partials dropped, params unpublished), then destroys the workqueue; workers already queued
     * still run but send nothing more. Reference §8 item 24, §3.6.
     */
    @Test
    void item24_queueFree_answersPendingGroupsInvalidAndDestroysWorkqueue() {
        f.iopf.reportDeviceFault(d1, last(PASID, 1, VA));
        f.iopf.reportDeviceFault(d2, partial(PASID, 2, VA));

        f.iopf.queueFree(f.queue);
        f.loop.runUntilIdle();

        assertThat(f.ops.messages()).containsExactly(resp(PASID, 1, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.REMOVE_DEVICE);
        assertThat(f.queue.deviceNames()).isEmpty();
        assertThat(f.iopf.faultParamUsers(d1)).isZero();
        assertThat(f.iopf.faultParamUsers(d2)).isZero();
        assertThat(f.queue.workqueue().destroyed()).isTrue();
    }

    /** iopf_queue_free(NULL) is a no-op. Reference §8 item 24. */
    @Test
    void item24_queueFreeNull_isNoOp() {
        f.iopf.queueFree(null);

        assertThat(f.queue.deviceNames()).containsExactly("accel0", "accel1");
        assertThat(f.log.lines()).isEmpty();
    }
}
