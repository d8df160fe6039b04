package dev.iommulab.iopf;

import static dev.iommulab.iopf.IopfFixture.VA;
import static dev.iommulab.iopf.IopfFixture.last;
import static dev.iommulab.iopf.IopfFixture.partial;
import static dev.iommulab.iopf.IopfFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** iopf_queue_add_device(), iopf_queue_remove_device(), iopf_queue_discard_partial() and refcounts. */
class IopfQueueLifecycleTest {

    private static final int PASID = 5;

    private IopfFixture f;

    @BeforeEach
    void setUp() {
        f = new IopfFixture();
    }

    /**
     * iopf_queue_add_device() publishes a param with one user owned by the queue membership.
     * Reference §3.4, §1.6.
     */
    @Test
    void queueAddDevice_newDevice_publishesParamWithOneUser() {
        Device dev = f.probe("accel0", 0x0100);

        f.iopf.queueAddDevice(f.queue, dev);

        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.queue.deviceNames()).containsExactly("accel0");
        assertThat(f.queue.workqueue().name()).isEqualTo("iopf_queue/dmar0");
    }

    /**
     * iopf_queue_add_device() for a device that already has a fault param fails with -EBUSY and changes
     * nothing. Reference §8 item 19, §3.4.
     */
    @Test
    void item19_addTwice_throwsEbusyAndChangesNothing() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        IopfQueue other = f.iopf.queueAlloc("dmar1");

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.iopf.queueAddDevice(other, dev));
        KernelException again = catchThrowableOfType(KernelException.class, () -> f.iopf.queueAddDevice(f.queue, dev));

        assertThat(e.errno()).isEqualTo(Errno.EBUSY);
        assertThat(again.errno()).isEqualTo(Errno.EBUSY);
        assertThat(f.queue.deviceNames()).containsExactly("accel0");
        assertThat(other.deviceNames()).isEmpty();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
    }

    /**
     * iopf_queue_add_device() refuses a device whose driver has no page_response with -ENODEV and
     * publishes nothing; a fault reported for it afterwards is bad setup. Reference §8 item 19, §3.4.
     */
    @Test
    void queueAddDevice_driverWithoutPageResponse_throwsEnodevAndPublishesNothing() {
        Device dev = f.probe("accel0", 0x0100);
        f.ops.setHasPageResponse(false);

        KernelException e = catchThrowableOfType(KernelException.class, () -> f.iopf.queueAddDevice(f.queue, dev));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(e.argument()).isEqualTo("dev");
        assertThat(f.queue.deviceNames()).isEmpty();
        assertThat(f.iopf.faultParamUsers(dev)).isZero();
    }

    /**
     * iopf_queue_remove_device() with two pending groups and one parked partial answers each group INVALID
     * exactly once with its LPIG pasid/grpid, frees the partial silently and unpublishes the param; a later
     * report is bad setup and a later iopf_group_response() sends nothing. Reference §8 item 20, §3.5.
     */
    @Test
    void item20_removeWithOutstandingWork_answersEachGroupInvalidOnceAndUnpublishes() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.attach(dev, 6, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(dev, last(PASID, 1, VA));
        f.iopf.reportDeviceFault(dev, last(6, 2, VA + 0x1000));
        f.iopf.reportDeviceFault(dev, partial(PASID, 3, VA + 0x2000));
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(3);

        f.iopf.queueRemoveDevice(f.queue, dev);

        assertThat(f.ops.messages()).containsExactlyInAnyOrder(
                resp(PASID, 1, PageResponseCode.INVALID), resp(6, 2, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.REMOVE_DEVICE, ResponseOrigin.REMOVE_DEVICE);
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.iopf.faultParamUsers(dev)).isZero();
        assertThat(f.queue.deviceNames()).isEmpty();

        for (IopfGroup group : f.handled) {
            f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
            f.iopf.freeGroup(group);
        }
        assertThat(f.ops.responses()).hasSize(2);

        int ret = f.iopf.reportDeviceFault(dev, last(PASID, 4, VA));
        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.messages()).hasSize(3).last().isEqualTo(resp(PASID, 4, PageResponseCode.INVALID));
        assertThat(f.iopf.faultParamUsers(dev)).isZero();
    }

    /**
     * iopf_queue_remove_device() force-answers a group whose SVA-style work is still queued; when the worker
     * runs later its iopf_group_response()/iopf_free_group() are no-ops: one response in total.
     * Reference §8 item 20, §2.3, invariant §8b.1.
     */
    @Test
    void queueRemoveDevice_workStillQueued_workerLaterSendsNothingMore() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
        f.iopf.reportDeviceFault(dev, last(PASID, 1, VA));

        f.iopf.queueRemoveDevice(f.queue, dev);
        f.loop.runUntilIdle();

        assertThat(f.ops.messages()).containsExactly(resp(PASID, 1, PageResponseCode.INVALID));
        assertThat(f.iopf.faultParamUsers(dev)).isZero();
    }

    /**
     * iopf_queue_remove_device() with the param on another queue WARNs and changes nothing.
     * Reference §8 item 21, §3.5.
     */
    @Test
    void item21_removeOnWrongQueue_warnsAndChangesNothing() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        IommuFault p = partial(PASID, 3, VA);
        f.iopf.reportDeviceFault(dev, p);
        f.iopf.reportDeviceFault(dev, last(PASID, 1, VA));
        IopfQueue other = f.iopf.queueAlloc("dmar1");

        f.iopf.queueRemoveDevice(other, dev);

        assertThat(f.log.lines()).singleElement().satisfies(line -> {
            assertThat(line.level()).isEqualTo(KernelLog.Level.WARNING);
            assertThat(line.text()).contains("iopf_queue_remove_device").contains(dev.pciName()).contains("dmar1");
        });
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.partials(dev)).containsExactly(p);
        assertThat(f.iopf.pendingGroups(dev)).isEqualTo(1);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);
        assertThat(f.queue.deviceNames()).containsExactly("accel0");
    }

    /**
     * iopf_queue_remove_device() for a device never added WARNs and sends nothing. Reference §3.5.
     */
    @Test
    void queueRemoveDevice_deviceWithoutParam_warnsAndSendsNothing() {
        Device dev = f.probe("accel0", 0x0100);

        f.iopf.queueRemoveDevice(f.queue, dev);

        assertThat(f.log.lines()).singleElement().extracting(KernelLog.Line::level)
                .isEqualTo(KernelLog.Level.WARNING);
        assertThat(f.ops.responses()).isEmpty();
    }

    /**
     * iopf_queue_discard_partial() empties the partial list of every device on the queue, sends nothing
     * and leaves pending groups intact; devices of other queues keep theirs. Reference §8 item 22, §3.2.
     */
    @Test
    void item22_discardPartial_emptiesOnlyPartialsOfThatQueue() {
        Device d1 = f.probeOnQueue("accel0", 0x0100);
        Device d2 = f.probeOnQueue("accel1", 0x0200);
        Device d3 = f.probe("accel2", 0x0300);
        IopfQueue other = f.iopf.queueAlloc("dmar1");
        f.iopf.queueAddDevice(other, d3);
        for (Device d : new Device[] {d1, d2, d3}) {
            f.attach(d, PASID, DomainType.UNMANAGED, f.holdingHandler());
            f.iopf.reportDeviceFault(d, partial(PASID, 3, VA));
        }
        f.iopf.reportDeviceFault(d1, last(PASID, 9, VA));

        f.iopf.queueDiscardPartial(f.queue);

        assertThat(f.iopf.partials(d1)).isEmpty();
        assertThat(f.iopf.partials(d2)).isEmpty();
        assertThat(f.iopf.partials(d3)).containsExactly(partial(PASID, 3, VA));
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.pendingGroups(d1)).isEqualTo(1);
        assertThat(f.iopf.faultParamUsers(d1)).isEqualTo(2);

        f.iopf.groupResponse(f.handled.get(0), PageResponseCode.SUCCESS);
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 9, PageResponseCode.SUCCESS));
    }

    /**
     * After iopf_queue_discard_partial() the LPIG of a discarded group forms a group of itself only.
     * Reference §3.2, §3.1 rule 4.
     */
    @Test
    void queueDiscardPartial_thenLpig_groupHoldsOnlyTheLpig() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(dev, partial(PASID, 3, VA));
        f.iopf.queueDiscardPartial(f.queue);

        f.iopf.reportDeviceFault(dev, last(PASID, 3, VA + 0x1000));

        assertThat(f.handled).singleElement().extracting(IopfGroup::faults)
                .isEqualTo(List.of(last(PASID, 3, VA + 0x1000)));
    }

    /**
     * iopf_queue_discard_partial(NULL) fails with -EINVAL. Reference §8 item 22, §3.2.
     */
    @Test
    void queueDiscardPartial_nullQueue_throwsEinval() {
        KernelException e = catchThrowableOfType(KernelException.class, () -> f.iopf.queueDiscardPartial(null));

        assertThat(e.errno()).isEqualTo(Errno.EINVAL);
        assertThat(e.argument()).isEqualTo("queue");
    }

    /**
     * Fault-param users: 1 after add, 2 while an accepted group is unanswered, 1 after response and free,
     * 0 after iopf_queue_remove_device(). Reference §8 item 25, §3.7, invariant §8b.3.
     */
    @Test
    void item25_refcounts_countQueuePlusLiveGroupsUntilRemoval() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);

        f.iopf.reportDeviceFault(dev, last(PASID, 1, VA));
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);

        IopfGroup group = f.handled.get(0);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        f.iopf.freeGroup(group);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);

        f.iopf.queueRemoveDevice(f.queue, dev);
        assertThat(f.iopf.faultParamUsers(dev)).isZero();
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 1, PageResponseCode.SUCCESS));
    }

    /**
     * A device removed and added again starts with a fresh param (users 1, no partials, no groups).
     * Reference §3.4, §3.5.
     */
    @Test
    void queueAddDevice_afterRemove_startsWithFreshParam() {
        Device dev = f.probeOnQueue("accel0", 0x0100);
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(dev, partial(PASID, 3, VA));
        f.iopf.queueRemoveDevice(f.queue, dev);

        f.iopf.queueAddDevice(f.queue, dev);

        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.queue.deviceNames()).containsExactly("accel0");
    }
}
