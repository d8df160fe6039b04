package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PRI state machine of {@link PcieEndpoint}: credits, Response Failure, UPRGI, stop markers.
 * Derives from reference/iommu-hardware.md §1.4 (PRI) and §6 scenarios 43, 45 and 46.
 */
class PcieEndpointPriTest {

    private static final int RID = 0x0300;
    private static final int PASID = 7;
    private static final int CAPACITY = 32;

    private final EventLoop loop = new EventLoop(1);
    private final FakeIommu iommu = new FakeIommu(new PhysicalMemory(1L << 20));
    private PcieEndpoint endpoint;

    @BeforeEach
    void setUp() {
        EndpointConfig config = new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, 20, CAPACITY,
                16, 3);
        endpoint = new PcieEndpoint(config, loop, TimingModel.ESTIMATES);
        endpoint.connect(iommu);
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
    }

    private static PageRequestMessage request(int prgi, boolean last) {
        return new PageRequestMessage(RID, true, PASID, false, false, true, false, last, prgi, 0x10_0000L * (prgi + 1));
    }

    private static PageRequestMessage stopMarker() {
        return new PageRequestMessage(RID, true, PASID, false, false, false, false, true, 0, 0);
    }

    /** A PRG response arrives at the function, as the fabric delivers it, and the loop settles. */
    private void respond(int prgi, int wireCode) {
        endpoint.prgResponse(new PrgResponse(RID, true, PASID, prgi, wireCode));
        loop.runUntilIdle();
    }

    private List<Integer> prgisSeenByIommu() {
        return iommu.pageRequests.stream().map(PageRequestMessage::prgi).toList();
    }

    /**
     * Scenario 45: a function with allocation A never has more than A page requests outstanding; each
     * PRG response returns the group's credits and lets a waiting request go.
     */
    @Test
    void scenario45_moreRequestsThanAllocation_onlyAllocationReachesIommuUntilResponses() {
        int allocation = 4;
        endpoint.enablePri(allocation);
        for (int prgi = 0; prgi < 10; prgi++) {
            endpoint.sendPageRequest(request(prgi, true), null);
        }
        loop.runUntilIdle();

        assertThat(prgisSeenByIommu()).containsExactly(0, 1, 2, 3);
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(allocation);

        int answered = 0;
        while (answered < iommu.pageRequests.size()) {
            respond(iommu.pageRequests.get(answered).prgi(), PrgResponseCode.SUCCESS.wire());
            answered++;
            int outstanding = iommu.pageRequests.size() - answered;
            assertThat(outstanding).isLessThanOrEqualTo(allocation);
            assertThat(endpoint.priState().creditsInUse()).isEqualTo(outstanding);
        }

        assertThat(prgisSeenByIommu()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(endpoint.priState().creditsInUse()).isZero();
        assertThat(endpoint.creditHighWater()).isEqualTo(allocation);
    }

    /** §1.4: every request of a group takes a credit; the group's one response returns all of them. */
    @Test
    void scenario45_multiRequestGroup_responseReturnsEveryCreditOfTheGroup() {
        endpoint.enablePri(3);
        endpoint.sendPageRequest(request(1, false), null);
        endpoint.sendPageRequest(request(1, false), null);
        endpoint.sendPageRequest(request(1, true), null);
        endpoint.sendPageRequest(request(2, true), null);
        loop.runUntilIdle();

        assertThat(prgisSeenByIommu()).containsExactly(1, 1, 1);
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(3);

        respond(1, PrgResponseCode.SUCCESS.wire());

        assertThat(prgisSeenByIommu()).containsExactly(1, 1, 1, 2);
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(1);
    }

    /** PCIe PRI: software's allocation is capped by the advertised Outstanding Page Request Capacity. */
    @Test
    void enablePri_allocationAboveCapacity_isCappedAtCapacity() {
        endpoint.enablePri(CAPACITY * 4);

        assertThat(endpoint.priState().allocation()).isEqualTo(CAPACITY);
        assertThat(endpoint.priState().enabled()).isTrue();
    }

    /** The waiter of a group learns the code its PRG response carried. */
    @Test
    void prgResponse_success_isReportedToTheGroupsWaiter() {
        endpoint.enablePri(4);
        List<PrgResponseCode> codes = new ArrayList<>();
        endpoint.sendPageRequest(request(5, true), codes::add);
        loop.runUntilIdle();

        respond(5, PrgResponseCode.SUCCESS.wire());

        assertThat(codes).containsExactly(PrgResponseCode.SUCCESS);
        assertThat(endpoint.priState().creditsInUse()).isZero();
    }

    /**
     * Scenario 43: code 1111b, or any unused code 0010b..1110b, sets RF; the function stops issuing page
     * requests and ignores later PRG responses.
     */
    @ParameterizedTest(name = "wire code {0}")
    @ValueSource(ints = {0xf, 0x2, 0x7, 0xe})
    void scenario43_failureOrUnusedCode_setsRfStopsRequestsAndIgnoresLaterResponses(int wireCode) {
        endpoint.enablePri(4);
        List<PrgResponseCode> codes = new ArrayList<>();
        endpoint.sendPageRequest(request(0, true), codes::add);
        endpoint.sendPageRequest(request(1, true), codes::add);
        loop.runUntilIdle();

        respond(0, wireCode);

        assertThat(codes).containsExactly(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(endpoint.priState().responseFailure()).isTrue();
        assertThat(endpoint.pri().usable()).isFalse();
        int creditsAfterFailure = endpoint.priState().creditsInUse();

        respond(1, PrgResponseCode.SUCCESS.wire());

        assertThat(codes).as("later response ignored").containsExactly(PrgResponseCode.RESPONSE_FAILURE);
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(creditsAfterFailure);
        assertThat(endpoint.priState().unexpectedPrgIndex()).isFalse();

        endpoint.sendPageRequest(request(2, true), null);
        loop.runUntilIdle();

        assertThat(prgisSeenByIommu()).as("no page request after RF").containsExactly(0, 1);
    }

    /** §1.4 recovery after Response Failure: disabling and re-enabling PRI clears RF; requests flow again. */
    @Test
    void enablePri_afterResponseFailure_clearsRfAndPageRequestsFlowAgain() {
        endpoint.enablePri(4);
        endpoint.sendPageRequest(request(0, true), null);
        loop.runUntilIdle();
        respond(0, PrgResponseCode.RESPONSE_FAILURE.wire());
        assertThat(endpoint.priState().responseFailure()).isTrue();

        endpoint.disablePri();
        endpoint.enablePri(4);

        assertThat(endpoint.priState().responseFailure()).isFalse();
        assertThat(endpoint.priState().enabled()).isTrue();
        List<PrgResponseCode> codes = new ArrayList<>();
        endpoint.sendPageRequest(request(3, true), codes::add);
        loop.runUntilIdle();
        respond(3, PrgResponseCode.SUCCESS.wire());

        assertThat(prgisSeenByIommu()).containsExactly(0, 3);
        assertThat(codes).containsExactly(PrgResponseCode.SUCCESS);
    }

    /**
     * PRI disabled (pci_disable_pri): nothing new is sent, but the response to an outstanding group is still
     * taken, returning its credit, so the function drains to Stopped (PCIe PRI status Stopped).
     */
    @Test
    void prgResponse_whilePriDisabled_completesOutstandingGroupAndSetsStopped() {
        endpoint.enablePri(4);
        List<PrgResponseCode> codes = new ArrayList<>();
        endpoint.sendPageRequest(request(4, true), codes::add);
        loop.runUntilIdle();

        endpoint.disablePri();
        assertThat(endpoint.priState().stopped()).as("a request is still outstanding").isFalse();
        endpoint.sendPageRequest(request(5, true), null);
        loop.runUntilIdle();
        respond(4, PrgResponseCode.SUCCESS.wire());

        assertThat(codes).containsExactly(PrgResponseCode.SUCCESS);
        assertThat(prgisSeenByIommu()).as("nothing sent while disabled").containsExactly(4);
        assertThat(endpoint.priState().creditsInUse()).isZero();
        assertThat(endpoint.priState().stopped()).isTrue();
    }

    /** §1.4 status UPRGI: a response for a PRGI that is not outstanding sets UPRGI and returns no credit. */
    @Test
    void prgResponse_prgiNotOutstanding_setsUprgiAndKeepsCredits() {
        endpoint.enablePri(4);
        List<PrgResponseCode> codes = new ArrayList<>();
        endpoint.sendPageRequest(request(0, true), codes::add);
        loop.runUntilIdle();

        respond(9, PrgResponseCode.SUCCESS.wire());

        PriState state = endpoint.priState();
        assertThat(state.unexpectedPrgIndex()).isTrue();
        assertThat(state.responseFailure()).isFalse();
        assertThat(state.creditsInUse()).isEqualTo(1);
        assertThat(codes).isEmpty();
    }

    /**
     * §1.4 UPRGI for a group whose request still waits for a credit (not yet sent): the response is
     * unexpected, and the group must still be sent and answered normally afterwards.
     */
    @Test
    void prgResponse_forGroupStillWaitingForCredit_setsUprgiAndGroupStillCompletes() {
        endpoint.enablePri(1);
        List<PrgResponseCode> first = new ArrayList<>();
        List<PrgResponseCode> second = new ArrayList<>();
        endpoint.sendPageRequest(request(0, true), first::add);
        endpoint.sendPageRequest(request(1, true), second::add);
        loop.runUntilIdle();
        assertThat(prgisSeenByIommu()).containsExactly(0);

        respond(1, PrgResponseCode.SUCCESS.wire());

        assertThat(endpoint.priState().unexpectedPrgIndex()).isTrue();
        assertThat(second).isEmpty();

        respond(0, PrgResponseCode.SUCCESS.wire());

        assertThat(first).containsExactly(PrgResponseCode.SUCCESS);
        assertThat(prgisSeenByIommu()).containsExactly(0, 1);

        respond(1, PrgResponseCode.SUCCESS.wire());

        assertThat(second).containsExactly(PrgResponseCode.SUCCESS);
        assertThat(endpoint.priState().creditsInUse()).isZero();
    }

    /** §1.4: a Stop Marker is not credited, so it goes out even when every credit is in use. */
    @Test
    void scenario46_stopMarkerWithCreditsExhausted_isSentWithoutUsingACredit() {
        endpoint.enablePri(1);
        endpoint.sendPageRequest(request(0, true), null);
        endpoint.sendPageRequest(stopMarker(), null);
        loop.runUntilIdle();

        assertThat(iommu.pageRequests).hasSize(2);
        assertThat(iommu.pageRequests.get(1).isStopMarker()).isTrue();
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(1);
    }

    /** Scenario 46: the Stop Marker follows the function's last page request for the PASID. */
    @Test
    void scenario46_stopMarkerBehindWaitingRequest_staysBehindIt() {
        endpoint.enablePri(1);
        endpoint.sendPageRequest(request(0, true), null);
        endpoint.sendPageRequest(request(1, true), null);
        endpoint.sendPageRequest(stopMarker(), null);
        loop.runUntilIdle();

        assertThat(iommu.pageRequests).hasSize(1);

        respond(0, PrgResponseCode.SUCCESS.wire());

        assertThat(iommu.pageRequests).hasSize(3);
        assertThat(iommu.pageRequests.get(1).prgi()).isEqualTo(1);
        assertThat(iommu.pageRequests.get(2).isStopMarker()).isTrue();
        assertThat(endpoint.priState().creditsInUse()).isEqualTo(1);
    }
}
