package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86Pte;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The recoverable fault's whole hardware journey with a real endpoint and a real VT-d unit, and a
 * minimal driver written in the test (the role of prq_event_thread() and intel_iommu_page_response()
 * in drivers/iommu/intel/prq.c). Derives from DESIGN.md §3 steps 1-4 and 8, and
 * reference/iommu-hardware.md §2.1.3.
 */
class VtdSvaJourneyTest {

    private static final long VA = 0x0000_7f55_0000_0000L;
    private static final long PA = 0x0090_0000L;

    private final VtdFixture f = new VtdFixture();
    private final List<DmaOutcome> outcomes = new ArrayList<>();
    private final List<PageRequestDescriptor> drained = new ArrayList<>();
    private PcieEndpoint endpoint;

    @BeforeEach
    void setUp() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.enableInvalidationQueue();
        endpoint = new PcieEndpoint(new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, 20, 8, 16,
                3), f.loop, TimingModel.ESTIMATES);
        endpoint.connect(f.unit);
        f.function.forwardTo(endpoint);
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
        endpoint.enablePri(8);
    }

    /**
     * A test driver for the page request event: drains PQH..PQT, maps each page when {@code map}, answers
     * each LPIG descriptor with {@code code}, moves PQH and clears PPR.
     */
    private void driverAnswers(int code, boolean map) {
        f.unit.setPageRequestInterrupt(() -> {
            long head = f.unit.readReg(VtdRegs.PQH);
            long tail = f.unit.readReg(VtdRegs.PQT);
            while (head != tail) {
                PageRequestDescriptor d = PageRequestDescriptor.readFrom(f.memory, f.prqBase + head);
                drained.add(d);
                if (map) {
                    f.map(d.addr(), PA, X86Pte.RW | X86Pte.US);
                }
                if (d.lpig()) {
                    f.submit(QiDescriptor.pageGroupResponse(d.rid(), d.pasidPresent(), d.pasid(), code,
                            d.prgIndex(), true));
                }
                head = (head + VtdRegs.DESC_SIZE) % 4096;
            }
            f.unit.writeReg(VtdRegs.PQH, head);
            f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        });
    }

    private DmaOutcome run(DmaJob job) {
        endpoint.startDma(job, outcomes::add);
        f.loop.runUntilIdle();
        assertThat(outcomes).hasSize(1);
        return outcomes.get(0);
    }

    /** DESIGN.md §3: R = W = 0 → page request queued → driver maps and answers Success → DMA completes. */
    @Test
    void startDma_absentPageDriverMapsAndAnswersSuccess_dmaReadsMemory() {
        byte[] data = {10, 20, 30, 40, 50, 60, 70, 80};
        f.memory.write(PA + 0x10, data);
        driverAnswers(0, true);

        DmaOutcome outcome = run(new DmaJob(VA + 0x10, data.length, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(outcome.data()).isEqualTo(data);
        assertThat(drained).singleElement().satisfies(d -> {
            assertThat(d.addr()).isEqualTo(VA);
            assertThat(d.lpig()).isTrue();
            assertThat(d.rdReq()).isTrue();
            assertThat(d.pasid()).isEqualTo(PASID);
        });
        assertThat(f.function.responses).containsExactly(new PrgResponse(RID, true, PASID, drained.get(0).prgIndex(), 0));
        assertThat(f.faults).as("ATS not-present produces no fault record").isEmpty();
        assertThat(f.memory.readLong(f.firstStage.leafEntryAddress(f.flRoot, VA)) & X86Pte.A).isEqualTo(X86Pte.A);
        assertThat(endpoint.priState().creditsInUse()).isZero();
    }

    /** A driver answering INVALID (1) ends the device's work item INVALID at the faulting address. */
    @Test
    void startDma_driverAnswersInvalid_dmaEndsInvalid() {
        driverAnswers(1, false);

        DmaOutcome outcome = run(new DmaJob(VA + 0x44, 4, Access.WRITE, PASID, false, new byte[] {1, 2, 3, 4}));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x44);
        assertThat(endpoint.priState().responseFailure()).isFalse();
        assertThat(f.memory.readInt(PA + 0x44)).isZero();
    }

    /**
     * intel_iommu_page_response() passes the kernel's IOMMU_PAGE_RESP_FAILURE (2) through unchanged: the
     * device reads 0010b as Response Failure, sets RF and stops using PRI (§1.4, scenario 43).
     */
    @Test
    void startDma_driverAnswersKernelFailureCode_deviceSetsRfAndDmaEndsPriFailed() {
        driverAnswers(2, false);

        DmaOutcome outcome = run(new DmaJob(VA, 4, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.PRI_FAILED);
        assertThat(endpoint.priState().responseFailure()).isTrue();
        assertThat(f.function.responses).singleElement().satisfies(r -> assertThat(r.wireCode()).isEqualTo(2));
    }
}
