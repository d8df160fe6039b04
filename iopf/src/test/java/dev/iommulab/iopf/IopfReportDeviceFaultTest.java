package dev.iommulab.iopf;

import static dev.iommulab.iopf.IopfFixture.VA;
import static dev.iommulab.iopf.IopfFixture.last;
import static dev.iommulab.iopf.IopfFixture.partial;
import static dev.iommulab.iopf.IopfFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.sim.TimingModel;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The report path of io-pgfault.c: routing, partials, group assembly, err_bad_iopf and err_abort. */
class IopfReportDeviceFaultTest {

    private static final int PASID = 5;

    private IopfFixture f;
    private Device dev;

    @BeforeEach
    void setUp() {
        f = new IopfFixture();
        dev = f.probeOnQueue("accel0", 0x0100);
    }

    /**
     * iommu_report_device_fault() routes an LPIG request to the SVA domain, whose handler runs the group on
     * the queue's workqueue and answers it once; iopf_free_group() returns the param reference.
     * Reference §8 item 1, §2.2 steps 5-7, §2.5.
     */
    @Test
    void reportDeviceFault_lpigOnSvaDomain_answersSuccessOnceFromWorkqueue() {
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());

        int ret = f.iopf.reportDeviceFault(dev, last(PASID, 3, VA));

        assertThat(ret).isZero();
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.queue.workqueue().pending()).isEqualTo(1);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);
        assertThat(f.iopf.pendingGroups(dev)).isEqualTo(1);

        f.loop.runUntilIdle();

        assertThat(f.loop.now()).isEqualTo(TimingModel.ESTIMATES.threadWakeNs());
        assertThat(f.ops.responses()).singleElement().satisfies(r -> {
            assertThat(r.dev()).isSameAs(dev);
            assertThat(r.evt()).isEqualTo(last(PASID, 3, VA));
            assertThat(r.msg()).isEqualTo(resp(PASID, 3, PageResponseCode.SUCCESS));
        });
        assertThat(f.origins).containsExactly(ResponseOrigin.SVA);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.queue.workqueue().pending()).isZero();
        assertThat(f.reportReturns).containsExactly(0);
    }

    /**
     * report_partial_fault() parks non-last requests without answering; iopf_group_alloc() hands the
     * handler [P1, P2, L] in arrival order and one response goes out with L's pasid/grpid.
     * Reference §8 item 6, §3.1 rules 1-3, invariant §8b.2.
     */
    @Test
    void item6_partialThenLpig_groupHoldsPartialsInArrivalOrderAndOneResponse() {
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
        IommuFault p1 = partial(PASID, 7, VA);
        IommuFault p2 = partial(PASID, 7, VA + 0x1000);
        IommuFault l = last(PASID, 7, VA + 0x2000);

        assertThat(f.iopf.reportDeviceFault(dev, p1)).isZero();
        assertThat(f.iopf.reportDeviceFault(dev, p2)).isZero();
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.partials(dev)).containsExactly(p1, p2);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);

        assertThat(f.iopf.reportDeviceFault(dev, l)).isZero();
        f.loop.runUntilIdle();

        assertThat(f.handled).singleElement().satisfies(g -> {
            assertThat(g.faults()).containsExactly(p1, p2, l);
            assertThat(g.lastFault()).isEqualTo(l);
            assertThat(g.faultCount()).isEqualTo(3);
            assertThat(g.device()).isSameAs(dev);
        });
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 7, PageResponseCode.SUCCESS));
        assertThat(f.iopf.partials(dev)).isEmpty();
    }

    /**
     * iopf_group_alloc() takes only the partials of the LPIG's grpid; the other group's partial stays parked
     * until its own LPIG. Reference §8 item 8.
     */
    @Test
    void item8_interleavedGroups_eachGroupTakesOnlyItsGrpid() {
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        IommuFault pg1 = partial(PASID, 1, VA);
        IommuFault pg2 = partial(PASID, 2, VA + 0x1000);
        IommuFault lg1 = last(PASID, 1, VA + 0x2000);
        IommuFault lg2 = last(PASID, 2, VA + 0x3000);

        f.iopf.reportDeviceFault(dev, pg1);
        f.iopf.reportDeviceFault(dev, pg2);
        f.iopf.reportDeviceFault(dev, lg1);

        assertThat(f.handled).singleElement().extracting(IopfGroup::faults)
                .isEqualTo(List.of(pg1, lg1));
        assertThat(f.iopf.partials(dev)).containsExactly(pg2);

        f.iopf.reportDeviceFault(dev, lg2);

        assertThat(f.handled).hasSize(2);
        assertThat(f.handled.get(1).faults()).containsExactly(pg2, lg2);
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.pendingGroups(dev)).isEqualTo(2);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(3);
        assertThat(f.ops.responses()).isEmpty();
    }

    /**
     * iopf_group_alloc() matches partials by grpid only, not PASID: P(pasid 1, g4) joins the group of
     * L(pasid 2, g4), which is answered with pasid 2. Reference §8 item 9, §2.2 step 5.
     */
    @Test
    void item9_grpidOnlyMatching_mergesPartialOfOtherPasidIntoGroup() {
        f.attach(dev, 1, DomainType.UNMANAGED, f.holdingHandler());
        IommuDomain second = f.attach(dev, 2, DomainType.UNMANAGED, f.holdingHandler());
        IommuFault p = partial(1, 4, VA);
        IommuFault l = last(2, 4, VA + 0x1000);

        f.iopf.reportDeviceFault(dev, p);
        f.iopf.reportDeviceFault(dev, l);

        IopfGroup group = f.handled.get(0);
        assertThat(group.faults()).containsExactly(p, l);
        assertThat(group.attachHandle().domain()).isSameAs(second);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        assertThat(f.ops.messages()).containsExactly(resp(2, 4, PageResponseCode.SUCCESS));
        assertThat(f.iopf.partials(dev)).isEmpty();
    }

    /**
     * find_fault_handler() finds nothing at the PASID (driver without user_pasid_table): err_bad_iopf answers
     * INVALID with the event's pasid/grpid and returns -EINVAL; nothing is parked or pending.
     * Reference §8 item 10, §2.2 step 2.
     */
    @Test
    void item10_noRoutingTargetLpig_answersInvalidAndReturnsEinval() {
        IommuFault l = last(9, 11, VA);

        int ret = f.iopf.reportDeviceFault(dev, l);

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.responses()).singleElement().satisfies(r -> {
            assertThat(r.evt()).isEqualTo(l);
            assertThat(r.msg()).isEqualTo(resp(9, 11, PageResponseCode.INVALID));
        });
        assertThat(f.origins).containsExactly(ResponseOrigin.BAD_SETUP);
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.reportReturns).containsExactly(Errno.EINVAL.negative());
    }

    /**
     * The bad-setup path runs before the LPIG check (as-coded quirk): a non-last request without a routing
     * target is answered INVALID too and nothing is parked. Reference §8 item 11, §2.2 step 2.
     */
    @Test
    void item11_noRoutingTargetNonLast_stillAnswersInvalidAndParksNothing() {
        int ret = f.iopf.reportDeviceFault(dev, partial(9, 11, VA));

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.messages()).containsExactly(resp(9, 11, PageResponseCode.INVALID));
        assertThat(f.iopf.partials(dev)).isEmpty();
    }

    /**
     * A request without PASID routes to the RID (find_fault_handler()); with nothing attached there it is
     * bad setup: INVALID, -EINVAL. Reference §8 item 10 (RID variant), §2.2 step 1.
     */
    @Test
    void reportDeviceFault_noPasidAndNothingOnRid_answersInvalidAndReturnsEinval() {
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
        IommuFault l = IommuFault.pageRequest(IommuFault.PAGE_REQUEST_LAST_PAGE, 0, 6, IommuFault.PERM_READ, VA);

        assertThat(f.iopf.reportDeviceFault(dev, l)).isEqualTo(Errno.EINVAL.negative());

        assertThat(f.ops.messages()).containsExactly(resp(0, 6, PageResponseCode.INVALID));
        assertThat(f.handled).isEmpty();
    }

    /**
     * err_bad_iopf answers only IOMMU_FAULT_PAGE_REQ faults: an event of another type without routing target
     * gets no response, still -EINVAL. iommu_report_device_fault(); reference §1.1, §2.2 step 2.
     */
    @Test
    void reportDeviceFault_nonPageRequestTypeWithoutTarget_returnsEinvalWithoutResponse() {
        IommuFault other = new IommuFault(2, IommuFault.PAGE_REQUEST_PASID_VALID | IommuFault.PAGE_REQUEST_LAST_PAGE,
                9, 1, IommuFault.PERM_READ, VA);

        assertThat(f.iopf.reportDeviceFault(dev, other)).isEqualTo(Errno.EINVAL.negative());

        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.partials(dev)).isEmpty();
    }

    /**
     * find_fault_handler() treats a domain without iopf_handler as no handler: INVALID, -EINVAL.
     * Reference §8 item 12 (on a PASID: the core has no RID attach yet).
     */
    @Test
    void reportDeviceFault_domainWithoutHandler_answersInvalidAndReturnsEinval() {
        f.attach(dev, PASID, DomainType.DMA, null);

        int ret = f.iopf.reportDeviceFault(dev, last(PASID, 2, VA));

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 2, PageResponseCode.INVALID));
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
    }

    /**
     * iopf_get_dev_fault_param() finds no param (device never added to a queue): WARN, then err_bad_iopf
     * (INVALID, -EINVAL); the handler is not called. Reference §8 item 13, §2.2 step 3.
     */
    @Test
    void item13_handlerButDeviceNotOnQueue_warnsAnswersInvalidAndReturnsEinval() {
        Device loose = f.probe("accel1", 0x0200);
        f.attach(loose, PASID, DomainType.SVA, f.svaLikeHandler());

        int ret = f.iopf.reportDeviceFault(loose, last(PASID, 2, VA));

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.responses()).singleElement().satisfies(r -> {
            assertThat(r.dev()).isSameAs(loose);
            assertThat(r.msg()).isEqualTo(resp(PASID, 2, PageResponseCode.INVALID));
        });
        assertThat(f.handled).isEmpty();
        assertThat(f.log.lines()).singleElement().satisfies(line -> {
            assertThat(line.level()).isEqualTo(KernelLog.Level.WARNING);
            assertThat(line.text()).contains(loose.pciName()).contains("no iopf fault param");
        });
        assertThat(f.iopf.faultParamUsers(loose)).isZero();
    }

    /**
     * iopf_group_alloc() fails: the on-stack abort group still collects the grpid's partials; err_abort logs
     * "iopf with pasid N aborted", answers FAILURE, frees the partials and returns 0. Partials of other
     * grpids stay. Reference §8 item 14, §2.2 steps 5, 6, 8.
     */
    @Test
    void item14_groupAllocationFailure_answersFailureAndFreesPartials() {
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
        IommuFault other = partial(PASID, 8, VA + 0x1000);
        f.iopf.reportDeviceFault(dev, partial(PASID, 7, VA));
        f.iopf.reportDeviceFault(dev, other);
        f.failures.failNext(Iopf.SITE_GROUP, 1);

        int ret = f.iopf.reportDeviceFault(dev, last(PASID, 7, VA + 0x2000));

        assertThat(ret).isZero();
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 7, PageResponseCode.FAILURE));
        assertThat(f.origins).containsExactly(ResponseOrigin.ABORT);
        assertThat(f.handled).isEmpty();
        assertThat(f.iopf.partials(dev)).containsExactly(other);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.logTexts()).singleElement().asString().endsWith("iopf with pasid 5 aborted");
        f.loop.runUntilIdle();
        assertThat(f.ops.responses()).hasSize(1);
    }

    /**
     * The domain's iopf_handler refuses the group: err_abort answers FAILURE, frees the group and
     * returns 0. Reference §8 item 15, §2.2 steps 7-8.
     */
    @Test
    void item15_handlerRefuses_answersFailureFreesGroupAndReturnsZero() {
        f.attach(dev, PASID, DomainType.SVA, group -> {
            f.handled.add(group);
            return Errno.EBUSY.negative();
        });
        IommuFault p = partial(PASID, 3, VA);
        f.iopf.reportDeviceFault(dev, p);

        int ret = f.iopf.reportDeviceFault(dev, last(PASID, 3, VA + 0x1000));

        assertThat(ret).isZero();
        assertThat(f.handled).singleElement().extracting(IopfGroup::faultCount).isEqualTo(2);
        assertThat(f.ops.messages()).containsExactly(resp(PASID, 3, PageResponseCode.FAILURE));
        assertThat(f.origins).containsExactly(ResponseOrigin.ABORT);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.logTexts()).singleElement().asString().contains("iopf with pasid 5 aborted");
    }

    /**
     * report_partial_fault() cannot allocate: the request is lost, -ENOMEM is returned and, as a non-last
     * request needs none, nothing is sent. Reference §8 item 16, §2.2 step 4.
     */
    @Test
    void item16_partialAllocationFailure_returnsEnomemWithoutResponse() {
        f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
        f.failures.failNext(Iopf.SITE_PARTIAL, 1);

        int ret = f.iopf.reportDeviceFault(dev, partial(PASID, 7, VA));

        assertThat(ret).isEqualTo(Errno.ENOMEM.negative());
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.partials(dev)).isEmpty();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.reportReturns).containsExactly(Errno.ENOMEM.negative());
    }

    /**
     * iopf_group_response() answers only a group still on the pending list: a second call, even with
     * another code, sends nothing. Reference §8 item 18, §2.3.
     */
    @Test
    void item18_idempotentResponse_sendsExactlyOneResponse() {
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(dev, last(PASID, 12, VA));
        IopfGroup group = f.handled.get(0);

        f.iopf.groupResponse(group, PageResponseCode.INVALID);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);

        assertThat(f.ops.messages()).containsExactly(resp(PASID, 12, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.IOMMUFD);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
    }

    /**
     * The fault param holds 1 (queue) + 1 per live group: 2 while an accepted group is unanswered, still 2
     * after the response until iopf_free_group(), then 1. Reference §8 item 25, §3.7, invariant §8b.3.
     */
    @Test
    void freeGroup_afterResponse_dropsParamUsersFromTwoToOne() {
        f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(dev, last(PASID, 12, VA));
        IopfGroup group = f.handled.get(0);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);

        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);

        f.iopf.freeGroup(group);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        f.iopf.freeGroup(group);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.ops.responses()).hasSize(1);
    }
}
