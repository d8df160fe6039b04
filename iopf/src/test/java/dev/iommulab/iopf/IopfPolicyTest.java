package dev.iommulab.iopf;

import static dev.iommulab.iopf.IopfFixture.VA;
import static dev.iommulab.iopf.IopfFixture.last;
import static dev.iommulab.iopf.IopfFixture.partial;
import static dev.iommulab.iopf.IopfFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The io-pgfault policies: each value's observable difference in responses and groups. */
class IopfPolicyTest {

    private static final int PASID = 5;

    private static IopfFixture fixture(Function<IopfPolicies, IopfPolicies> policies) {
        return new IopfFixture(policies);
    }

    /**
     * iopf.abort-response: err_abort of iommu_report_device_fault() answers a failed group allocation with
     * FAILURE (kernel) or INVALID; the origin is abort either way. Reference §2.6.
     */
    @Test
    void abortResponse_failureVersusInvalid_changesOnlyTheCode() {
        for (PageResponseCode code : new PageResponseCode[] {PageResponseCode.FAILURE, PageResponseCode.INVALID}) {
            IopfFixture f = fixture(p -> p.withAbort(() -> code));
            Device dev = f.probeOnQueue("accel0", 0x0100);
            f.attach(dev, PASID, DomainType.SVA, f.svaLikeHandler());
            f.failures.failNext(Iopf.SITE_GROUP, 1);

            f.iopf.reportDeviceFault(dev, last(PASID, 7, VA));

            assertThat(f.ops.messages()).containsExactly(resp(PASID, 7, code));
            assertThat(f.origins).containsExactly(ResponseOrigin.ABORT);
        }
    }

    /**
     * iopf.group-allocation kernel: an injected allocation failure is err_abort (FAILURE). bounded-pool does
     * not allocate on the fault path, so the same injection has no effect. iopf_group_alloc().
     */
    @Test
    void groupAllocation_kernelVersusBoundedPool_injectedFailureOnlyHitsKernel() {
        IopfFixture kernel = fixture(null);
        IopfFixture pool = fixture(p -> p.withAllocation(new BoundedPoolAllocation(4, 2)));
        for (IopfFixture f : new IopfFixture[] {kernel, pool}) {
            Device dev = f.probeOnQueue("accel0", 0x0100);
            f.attach(dev, PASID, DomainType.UNMANAGED, f.holdingHandler());
            f.failures.failNext(Iopf.SITE_GROUP, 1);
            f.iopf.reportDeviceFault(dev, last(PASID, 7, VA));
        }

        assertThat(kernel.ops.messages()).containsExactly(resp(PASID, 7, PageResponseCode.FAILURE));
        assertThat(pool.ops.responses()).isEmpty();
        assertThat(pool.handled).hasSize(1);
    }

    /**
     * iopf.group-allocation bounded-pool: beyond max-open-per-device open groups a device's LPIG is answered
     * INVALID (origin back-pressure) and its partials freed; another device still gets groups until the pool
     * is empty; freeing a group makes room again. The kernel allocator accepts every one.
     */
    @Test
    void groupAllocation_boundedPool_answersInvalidAsBackPressureWhenExhausted() {
        IopfFixture f = fixture(p -> p.withAllocation(new BoundedPoolAllocation(3, 2)));
        Device d1 = f.probeOnQueue("accel0", 0x0100);
        Device d2 = f.probeOnQueue("accel1", 0x0200);
        f.attach(d1, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.attach(d2, PASID, DomainType.UNMANAGED, f.holdingHandler());
        f.iopf.reportDeviceFault(d1, last(PASID, 1, VA));
        f.iopf.reportDeviceFault(d1, last(PASID, 2, VA));
        f.iopf.reportDeviceFault(d1, partial(PASID, 3, VA));

        f.iopf.reportDeviceFault(d1, last(PASID, 3, VA));
        f.iopf.reportDeviceFault(d2, last(PASID, 4, VA));
        f.iopf.reportDeviceFault(d2, last(PASID, 5, VA));

        assertThat(f.ops.messages()).containsExactly(resp(PASID, 3, PageResponseCode.INVALID),
                resp(PASID, 5, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.BACK_PRESSURE, ResponseOrigin.BACK_PRESSURE);
        assertThat(f.handled).hasSize(3);
        assertThat(f.iopf.partials(d1)).isEmpty();
        assertThat(f.iopf.faultParamUsers(d1)).isEqualTo(3);

        f.iopf.groupResponse(f.handled.get(0), PageResponseCode.SUCCESS);
        f.iopf.freeGroup(f.handled.get(0));
        f.iopf.reportDeviceFault(d2, last(PASID, 6, VA));
        assertThat(f.handled).hasSize(4);

        IopfFixture kernel = fixture(null);
        Device k = kernel.probeOnQueue("accel0", 0x0100);
        kernel.attach(k, PASID, DomainType.UNMANAGED, kernel.holdingHandler());
        for (int g = 1; g <= 3; g++) {
            kernel.iopf.reportDeviceFault(k, last(PASID, g, VA));
        }
        assertThat(kernel.handled).hasSize(3);
        assertThat(kernel.ops.responses()).isEmpty();
    }

    /**
     * iopf.partial-match: with grpid (kernel) a partial of PASID 1 joins the LPIG of PASID 2 with the same
     * grpid; with grpid-pasid it stays parked. iopf_group_alloc(); reference §8 item 9.
     */
    @Test
    void partialMatch_grpidVersusGrpidPasid_otherPasidPartialMergedOnlyByGrpid() {
        IommuFault p = partial(1, 4, VA);
        IommuFault l = last(2, 4, VA + 0x1000);
        IopfFixture grpid = fixture(null);
        IopfFixture both = fixture(x -> x.withPartialMatch(PartialMatch.GRPID_PASID));
        for (IopfFixture f : new IopfFixture[] {grpid, both}) {
            Device dev = f.probeOnQueue("accel0", 0x0100);
            f.attach(dev, 1, DomainType.UNMANAGED, f.holdingHandler());
            f.attach(dev, 2, DomainType.UNMANAGED, f.holdingHandler());
            f.iopf.reportDeviceFault(dev, p);
            f.iopf.reportDeviceFault(dev, l);
        }

        assertThat(grpid.handled.get(0).faults()).containsExactly(p, l);
        assertThat(grpid.iopf.partials(grpid.core.devices().get(0))).isEmpty();
        assertThat(both.handled.get(0).faults()).containsExactly(l);
        assertThat(both.iopf.partials(both.core.devices().get(0))).containsExactly(p);
    }
}
