package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvRegs;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lab's riscv_iommu_priq_process() after {@code pqof} under the policy {@code iopf.overflow-recovery}
 * (reference §3.2, §8 items 46 and 54 by analogy).
 */
class RiscvOverflowRecoveryTest {

    private static RiscvIommuFixture overflowed(OverflowRecovery recovery) {
        RiscvIommuFixture f = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                new RiscvIommuDriver.QueueSizes(4096, 4), EndpointOptions.DEFAULTS, recovery).attach();
        f.send(request(1, true, false, false, VA), request(1, true, false, false, VA + 0x1000),
                request(1, true, false, false, VA + 0x2000), request(2, true, false, true, VA + 0x8000));
        return f;
    }

    /**
     * discard-partials (the default, as VT-d) frees the 3 partials of the group whose last request the IOMMU
     * answered; none (as AMD) keeps them parked; reset-devices frees them and resets the function, whose
     * credits held by the unanswered partials are free again, with PRI, ATS and PASID restored. pqof is
     * cleared and the warning logged in every case.
     */
    @Test
    void overflowRecovery_threeValues_differInPartialsAndPriState() {
        RiscvIommuFixture discard = overflowed(OverflowRecovery.DISCARD_PARTIALS);
        RiscvIommuFixture none = overflowed(OverflowRecovery.NONE);
        RiscvIommuFixture reset = overflowed(OverflowRecovery.RESET_DEVICES);

        assertThat(discard.iopf.partials(discard.dev)).isEmpty();
        assertThat(none.iopf.partials(none.dev)).hasSize(3);
        assertThat(reset.iopf.partials(reset.dev)).isEmpty();
        for (RiscvIommuFixture f : List.of(discard, none, reset)) {
            assertThat(f.hw.readReg(RiscvRegs.PQCSR) & RiscvRegs.PQCSR_PQOF).isZero();
            assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 2, 0x0));
            assertThat(f.warnTexts()).contains("riscv,iommu riscv-iommu0: Queue #3 error; memory fault:0 overflow:1");
        }
        assertThat(discard.endpoint.priState().creditsInUse()).isEqualTo(3);
        assertThat(reset.endpoint.priState().creditsInUse()).isZero();
        assertThat(reset.endpoint.priState().enabled()).isTrue();
        assertThat(reset.endpoint.priState().allocation()).isEqualTo(discard.endpoint.priState().allocation());
        assertThat(reset.endpoint.atsEnabled()).isTrue();
        assertThat(reset.endpoint.pasidEnabled()).isTrue();

        reset.send(request(3, true, false, true, VA + 0x9000));
        assertThat(reset.groups).extracting(g -> g.lastFault().grpid()).containsExactly(3);
    }
}
