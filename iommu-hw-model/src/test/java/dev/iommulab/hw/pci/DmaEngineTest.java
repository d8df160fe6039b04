package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A function's DMA engine with ATS and PRI ({@link PcieEndpoint#startDma}), against a hand-written
 * IOMMU. Derives from DESIGN.md §3 steps 1-3 and 8 (the recoverable fault's journey),
 * reference/iommu-hardware.md §1.3 (Success with R = W = 0) and §1.4 (PRG responses). The §6 scenarios
 * are in {@link EndpointScenariosTest}.
 */
class DmaEngineTest {

    private static final int RID = 0x0410;
    private static final int PASID = 3;
    private static final long VA = 0x7000_0000L;
    private static final long PA = 0x2_3000L;

    private final EventLoop loop = new EventLoop(11);
    private final PhysicalMemory memory = new PhysicalMemory(1L << 20);
    private final FakeIommu iommu = new FakeIommu(memory);
    private final PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
    private final List<DmaOutcome> outcomes = new ArrayList<>();
    private PcieEndpoint endpoint;

    @BeforeEach
    void setUp() {
        EndpointConfig config = new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, 20, 8, 16, 3);
        endpoint = new PcieEndpoint(config, loop, TimingModel.ESTIMATES);
        endpoint.connect(iommu);
        fabric.attach(endpoint);
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
        endpoint.enablePri(8);
    }

    /** The host answers every page request with {@code wireCode}, after mapping the page if asked to. */
    private void hostAnswers(int wireCode, boolean mapPage) {
        iommu.onPageRequest(m -> {
            if (mapPage) {
                iommu.makeResident(m.pageAddr(), PA);
            }
            fabric.sendPrgResponse(new PrgResponse(m.rid(), m.pasidPresent(), m.pasid(), m.prgi(), wireCode));
        });
    }

    private DmaOutcome run(DmaJob job) {
        endpoint.startDma(job, outcomes::add);
        loop.runUntilIdle();
        assertThat(outcomes).hasSize(1);
        return outcomes.get(0);
    }

    private static byte[] bytes(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (seed + i);
        }
        return data;
    }

    /**
     * DESIGN.md §3: ATC miss → translation request → Success R = W = 0 → page request (L = 1, PASID)
     * → host answers Success → retried translation → translated memory request reads the page.
     */
    @Test
    void startDma_readOfAbsentPage_requestsPageRetriesAndReadsMemory() {
        memory.write(PA + 0x80, bytes(64, 0x40));
        hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        DmaOutcome outcome = run(new DmaJob(VA + 0x80, 64, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(outcome.data()).isEqualTo(bytes(64, 0x40));
        assertThat(outcome.faultAddr()).isEqualTo(-1);
        assertThat(outcome.latencyNs()).isPositive();

        assertThat(iommu.translationRequests).hasSize(2);
        assertThat(iommu.translationRequests).allSatisfy(tr -> {
            assertThat(tr.addr()).isEqualTo(VA);
            assertThat(tr.pasidPresent()).isTrue();
            assertThat(tr.pasid()).isEqualTo(PASID);
            assertThat(tr.noWrite()).isTrue();
        });
        assertThat(iommu.translationCompletions.get(0).read()).isFalse();
        assertThat(iommu.translationCompletions.get(0).write()).isFalse();

        assertThat(iommu.pageRequests).hasSize(1);
        PageRequestMessage pr = iommu.pageRequests.get(0);
        assertThat(pr.last()).isTrue();
        assertThat(pr.read()).isTrue();
        assertThat(pr.write()).isFalse();
        assertThat(pr.pasidPresent()).isTrue();
        assertThat(pr.pasid()).isEqualTo(PASID);
        assertThat(pr.pageAddr()).isEqualTo(VA);
        assertThat(pr.rid()).isEqualTo(RID);

        assertThat(iommu.memoryRequests).hasSize(1);
        DmaRequest mr = iommu.memoryRequests.get(0);
        assertThat(mr.addressType()).isEqualTo(AddressType.TRANSLATED);
        assertThat(mr.addr()).isEqualTo(PA + 0x80);
        assertThat(mr.length()).isEqualTo(64);
        assertThat(endpoint.priState().creditsInUse()).isZero();
    }

    /** The write flavour of the same journey: the page request asks for W and the bytes reach memory. */
    @Test
    void startDma_writeToAbsentPage_requestsWritablePageAndWritesMemory() {
        hostAnswers(PrgResponseCode.SUCCESS.wire(), true);
        byte[] data = bytes(16, 0x10);

        DmaOutcome outcome = run(new DmaJob(VA + 0xff0, 16, Access.WRITE, PASID, false, data));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(memory.read(PA + 0xff0, 16)).isEqualTo(data);
        assertThat(iommu.pageRequests).singleElement().satisfies(pr -> {
            assertThat(pr.write()).isTrue();
            assertThat(pr.read()).isFalse();
            assertThat(pr.last()).isTrue();
        });
        assertThat(iommu.translationRequests).allSatisfy(tr -> assertThat(tr.noWrite()).isFalse());
    }

    /** A filled ATC serves the next job on the same page without a translation request. */
    @Test
    void startDma_secondJobOnSamePage_hitsAtcWithoutTranslationRequest() {
        iommu.makeResident(VA, PA);
        endpoint.startDma(new DmaJob(VA, 8, Access.READ, PASID, false, null), outcomes::add);
        loop.runUntilIdle();
        endpoint.startDma(new DmaJob(VA + 8, 8, Access.READ, PASID, false, null), outcomes::add);
        loop.runUntilIdle();

        assertThat(outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.OK, DmaStatus.OK);
        assertThat(iommu.translationRequests).hasSize(1);
        assertThat(iommu.memoryRequests).extracting(DmaRequest::addr).containsExactly(PA, PA + 8);
        assertThat(iommu.pageRequests).isEmpty();
    }

    /** §1.4 Invalid Request: the work item ends INVALID with the faulting address; no memory access. */
    @Test
    void startDma_invalidRequestResponse_endsInvalidWithFaultingAddress() {
        hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);

        DmaOutcome outcome = run(new DmaJob(VA + 0x123, 4, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x123);
        assertThat(outcome.data()).isEmpty();
        assertThat(iommu.translationRequests).hasSize(1);
        assertThat(iommu.memoryRequests).isEmpty();
        assertThat(endpoint.priState().creditsInUse()).isZero();
        assertThat(endpoint.priState().responseFailure()).isFalse();
    }

    /** A multi-page job fails at the first byte of the page that could not be made resident. */
    @Test
    void startDma_secondPageInvalid_faultAddrIsStartOfSecondPage() {
        iommu.makeResident(VA, PA);
        hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);

        DmaOutcome outcome = run(new DmaJob(VA + 0xf00, 0x200, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x1000);
        assertThat(iommu.memoryRequests).singleElement()
                .satisfies(mr -> assertThat(mr.length()).isEqualTo(0x100));
    }

    /** maxPriRetries protects against a host that keeps answering Success without mapping. */
    @Test
    void startDma_successNeverMaps_endsRetryLimit() {
        hostAnswers(PrgResponseCode.SUCCESS.wire(), false);

        DmaOutcome outcome = run(new DmaJob(VA, 8, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.RETRY_LIMIT);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(iommu.pageRequests).hasSize(endpoint.config().maxPriRetries() + 1);
        assertThat(iommu.memoryRequests).isEmpty();
    }

    /** Without PRI a not-accessible translation ends the job with UR (§1.3: device-defined error). */
    @Test
    void startDma_notAccessibleWithoutPri_endsUrWithoutPageRequest() {
        endpoint.disablePri();

        DmaOutcome outcome = run(new DmaJob(VA, 8, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.UR);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(iommu.pageRequests).isEmpty();
    }

    /** FLR clears the ATC: after re-enabling, the same page needs a fresh translation request. */
    @Test
    void functionLevelReset_afterAtcFill_nextJobTranslatesAgain() {
        iommu.makeResident(VA, PA);
        endpoint.startDma(new DmaJob(VA, 8, Access.READ, PASID, false, null), outcomes::add);
        loop.runUntilIdle();
        assertThat(endpoint.atc.size()).isEqualTo(1);

        endpoint.functionLevelReset();
        assertThat(endpoint.atc.size()).isZero();
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
        endpoint.startDma(new DmaJob(VA, 8, Access.READ, PASID, false, null), outcomes::add);
        loop.runUntilIdle();

        assertThat(outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.OK, DmaStatus.OK);
        assertThat(iommu.translationRequests).hasSize(2);
    }

    /** A PASID-tagged job on a function whose PASID capability is off ends UR before any request. */
    @Test
    void startDma_pasidJobWithPasidDisabled_endsUrWithoutRequests() {
        endpoint.setPasidEnabled(false);

        DmaOutcome outcome = run(new DmaJob(VA, 8, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.UR);
        assertThat(iommu.translationRequests).isEmpty();
        assertThat(iommu.memoryRequests).isEmpty();
    }
}
