package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static dev.iommulab.drivers.intel.IntelIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.drivers.intel.IntelIommuFixture.Answer;
import dev.iommulab.drivers.intel.IntelIommuFixture.Report;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.iopf.Iopf;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * prq_event_thread() under the policy {@code iopf.overflow-recovery} and the {@code pre-6.8} kernel, where
 * the driver answers what the core failed (handle_bad_prq_event()). Reference §2.6, §3.2, §8 items 46, 58.
 */
class IntelPolicyAndKernelTest {

    private static final int PRQ_ENTRIES = 128;

    private static IntelIommuFixture overflowed(OverflowRecovery recovery) {
        IntelIommuFixture f = new IntelIommuFixture(4096,
                VtdConfig.defaults("dmar0").withPrqEntries(PRQ_ENTRIES), KernelVersion.LATEST, recovery).attach();
        List<PageRequestMessage> burst = new ArrayList<>();
        for (int i = 0; i < PRQ_ENTRIES - 1; i++) {
            burst.add(request(1, true, false, false, VA + 0x1000L * i));
        }
        burst.add(request(2, true, false, true, VA - 0x1000));
        f.send(burst.toArray(PageRequestMessage[]::new));
        return f;
    }

    /**
     * iopf.overflow-recovery after PRO with an empty ring: discard-partials (VT-d's kernel behaviour) empties
     * the partial list; none (AMD) keeps the 127 partials of the group whose LPIG the unit answered;
     * reset-devices discards them and resets the function (FLR), so the credits its unanswered partials held
     * are free again, and restores PRI, ATS and PASID. PRO is cleared in every case.
     */
    @Test
    void overflowRecovery_threeValues_differInPartialsAndPriState() {
        IntelIommuFixture discard = overflowed(OverflowRecovery.DISCARD_PARTIALS);
        IntelIommuFixture none = overflowed(OverflowRecovery.NONE);
        IntelIommuFixture reset = overflowed(OverflowRecovery.RESET_DEVICES);

        assertThat(discard.iopf.partials(discard.dev)).isEmpty();
        assertThat(none.iopf.partials(none.dev)).hasSize(PRQ_ENTRIES - 1);
        assertThat(reset.iopf.partials(reset.dev)).isEmpty();
        for (IntelIommuFixture f : List.of(discard, none, reset)) {
            assertThat(f.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).isZero();
            assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 2, 0x0));
        }
        assertThat(discard.endpoint.priState().creditsInUse()).isEqualTo(PRQ_ENTRIES - 1);
        assertThat(reset.endpoint.priState().creditsInUse()).isZero();
        assertThat(reset.endpoint.priState().enabled()).isEqualTo(discard.endpoint.priState().enabled());
        assertThat(reset.endpoint.priState().allocation()).isEqualTo(discard.endpoint.priState().allocation());
        assertThat(reset.endpoint.atsEnabled()).isEqualTo(discard.endpoint.atsEnabled());
        assertThat(reset.endpoint.pasidEnabled()).isEqualTo(discard.endpoint.pasidEnabled());
        assertThat(reset.logTexts()).anyMatch(t -> t.contains("resetting after page request overflow"));
    }

    /**
     * Before 6.8 a report the core fails is answered by the driver: for a device no longer on the iopf queue (no
     * fault param: -EINVAL) an LPIG gets INVALID (origin driver) with its PRG index, a non-last one nothing. intel_svm_prq_report()'s
     * caller; reference §8 item 58.
     */
    @Test
    void item58_pre68ReportFails_driverAnswersInvalidOnlyForLpig() {
        IntelIommuFixture f = new IntelIommuFixture(32, VtdConfig.defaults("dmar0"), KernelVersion.PRE_6_8,
                OverflowRecovery.DISCARD_PARTIALS).attach();
        f.iopf.queueRemoveDevice(f.intel.iopfQueue(), f.dev);

        f.send(request(3, true, false, false, VA), request(4, true, false, true, VA));

        assertThat(f.reports).extracting(Report::ret).containsExactly(Errno.EINVAL.negative(),
                Errno.EINVAL.negative());
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.DRIVER, new PageResponse(PASID, 4, PageResponseCode.INVALID)));
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 4, 0x1));
    }

    /**
     * Latest kernel, same failure: the core answers FAILURE (err_abort) and the driver adds nothing; pre-6.8
     * the core answers nothing and the driver INVALID. iommu_report_device_fault(); reference §2.6.
     */
    @Test
    void item58_groupAllocationFailure_latestCoreAnswersFailurePre68DriverAnswersInvalid() {
        IntelIommuFixture latest = new IntelIommuFixture().attach();
        IntelIommuFixture pre = new IntelIommuFixture(32, VtdConfig.defaults("dmar0"), KernelVersion.PRE_6_8,
                OverflowRecovery.DISCARD_PARTIALS).attach();
        for (IntelIommuFixture f : List.of(latest, pre)) {
            f.failures.failNext(Iopf.SITE_GROUP, 1);
            f.send(request(6, true, false, true, VA));
        }

        assertThat(latest.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.ABORT, PageResponseCode.FAILURE));
        assertThat(pre.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.DRIVER, PageResponseCode.INVALID));
        assertThat(pre.reports).extracting(Report::ret).containsExactly(Errno.ENOMEM.negative());
    }
}
