package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.RID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PRI control and status beyond credits (reference §1.4, §4 recovery knobs; Linux pci_reset_pri(),
 * pci_enable_pri(), pci_prg_resp_pasid_required()): Reset, Stopped, the Enable transition,
 * PRG Response PASID Required, and Function Level Reset.
 */
class PriControlTest {

    private static PageRequestMessage request(int prgi, boolean last) {
        return new PageRequestMessage(RID, true, PASID, false, false, true, false, last, prgi, 0x10_0000L * (prgi + 1));
    }

    private static EndpointFixture fixture(EndpointOptions options) {
        return new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 4, options);
    }

    private static void deliver(EndpointFixture f, boolean pasidPresent, int pasid, int prgi, int code) {
        f.endpoint.prgResponse(new PrgResponse(RID, pasidPresent, pasid, prgi, code));
        f.loop.runUntilIdle();
    }

    /** Linux only writes Reset while Enable is clear; the model ignores it otherwise and says so. */
    @Test
    void resetPri_whileEnabled_returnsFalseAndKeepsState() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.loop.runUntilIdle();

        assertThat(f.endpoint.resetPri()).isFalse();
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(1);
    }

    /** Reset while disabled clears RF, UPRGI, credits and every pending group; the function is Stopped. */
    @Test
    void resetPri_whileDisabledAfterFailures_clearsStatusCreditsAndPendingGroups() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.endpoint.sendPageRequest(request(1, true), null);
        f.loop.runUntilIdle();
        deliver(f, true, PASID, 9, 0);
        deliver(f, true, PASID, 0, PrgResponseCode.RESPONSE_FAILURE.wire());
        f.endpoint.disablePri();
        assertThat(f.endpoint.priState().stopped()).as("group 1 never answered").isFalse();

        assertThat(f.endpoint.resetPri()).isTrue();

        assertThat(f.endpoint.priState()).isEqualTo(new PriState(false, false, false, true, 4, 0));
        deliver(f, true, PASID, 1, 0);
        assertThat(f.endpoint.priState().unexpectedPrgIndex()).as("group 1 was forgotten").isTrue();
    }

    /** A work item whose group was still waiting for credits when PRI was Reset ends instead of hanging. */
    @Test
    void resetPri_groupOfWorkItemNeverSent_workItemEndsUr() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 1, EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.start(read(VA, 4));
        f.loop.runUntilIdle();
        assertThat(f.iommu.pageRequests).hasSize(1);

        f.endpoint.disablePri();
        f.endpoint.resetPri();
        f.loop.runUntilIdle();

        assertThat(f.outcomes).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DmaStatus.UR));
    }

    /** Stopped is only reported with Enable clear; the Enable 0→1 write clears RF and UPRGI. */
    @Test
    void enablePri_fromDisabled_clearsRfAndUprgiButNotWhenAlreadyEnabled() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.loop.runUntilIdle();
        deliver(f, true, PASID, 0, PrgResponseCode.RESPONSE_FAILURE.wire());
        assertThat(f.endpoint.priState().stopped()).as("undefined while enabled: reported false").isFalse();

        f.endpoint.enablePri(4);
        assertThat(f.endpoint.priState().responseFailure()).as("already enabled: no transition").isTrue();

        f.endpoint.disablePri();
        assertThat(f.endpoint.priState().stopped()).isTrue();
        f.endpoint.enablePri(4);
        assertThat(f.endpoint.priState().responseFailure()).isFalse();
    }

    /**
     * PRG Response PASID Required set: a response without the PASID of its PASID-tagged group matches no
     * request (PCIe leaves it undefined; this model counts it unexpected): UPRGI, the group stays.
     */
    @Test
    void prgResponse_pasidRequiredButResponseWithoutPasid_setsUprgiAndGroupStaysOutstanding() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS.withPrgResponsePasidRequired(true));
        List<PrgResponseCode> codes = new ArrayList<>();
        f.endpoint.sendPageRequest(request(2, true), codes::add);
        f.loop.runUntilIdle();
        assertThat(f.endpoint.prgResponsePasidRequired()).isTrue();

        deliver(f, false, 0, 2, 0);
        deliver(f, true, PASID + 1, 2, 0);

        assertThat(f.endpoint.priState().unexpectedPrgIndex()).isTrue();
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(1);
        assertThat(codes).isEmpty();

        deliver(f, true, PASID, 2, 0);

        assertThat(codes).containsExactly(PrgResponseCode.SUCCESS);
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /** PRG Response PASID Required clear: the PASID of a response is not looked at (either way is accepted). */
    @Test
    void prgResponse_pasidNotRequired_responseWithOrWithoutPasidCompletesGroup() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        List<PrgResponseCode> codes = new ArrayList<>();
        f.endpoint.sendPageRequest(request(2, true), codes::add);
        f.endpoint.sendPageRequest(request(3, true), codes::add);
        f.loop.runUntilIdle();

        deliver(f, false, 0, 2, 0);
        deliver(f, true, PASID + 5, 3, 1);

        assertThat(codes).containsExactly(PrgResponseCode.SUCCESS, PrgResponseCode.INVALID_REQUEST);
        assertThat(f.endpoint.priState().unexpectedPrgIndex()).isFalse();
    }

    /** A response to a group whose LPIG still waits for a credit ends the group: its unsent requests are dropped. */
    @Test
    void prgResponse_beforeLpigWasSent_dropsTheGroupsUnsentRequests() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 1, EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(4, false), null);
        f.endpoint.sendPageRequest(request(4, true), null);
        f.loop.runUntilIdle();
        assertThat(f.iommu.pageRequests).hasSize(1);

        deliver(f, true, PASID, 4, 0);

        assertThat(f.iommu.pageRequests).hasSize(1);
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /** §1.4 / §4: FLR disables ATS, PASID and PRI and clears RF, UPRGI, allocation, credits and the ATC. */
    @Test
    void functionLevelReset_afterFailures_clearsCapabilitiesAndPriState() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.endpoint.sendPageRequest(request(1, true), null);
        f.loop.runUntilIdle();
        deliver(f, true, PASID, 9, 0);
        deliver(f, true, PASID, 0, PrgResponseCode.RESPONSE_FAILURE.wire());
        f.endpoint.atc.fill(PASID, false, 0x4000,
                new AtsCompletion(CompletionStatus.SUCCESS, 0x9000, 4096, true, true, false, false));
        assertThat(f.endpoint.priState().unexpectedPrgIndex()).isTrue();
        assertThat(f.endpoint.priState().responseFailure()).isTrue();

        f.endpoint.functionLevelReset();

        assertThat(f.endpoint.priState()).isEqualTo(new PriState(false, false, false, true, 0, 0));
        assertThat(f.endpoint.atsEnabled()).isFalse();
        assertThat(f.endpoint.pasidEnabled()).isFalse();
        assertThat(f.endpoint.atc.size()).isZero();
    }

    /** After FLR, a response for a group sent before the reset is not outstanding any more (UPRGI). */
    @Test
    void functionLevelReset_thenReenable_staleResponseIsUnexpected() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(request(0, true), null);
        f.loop.runUntilIdle();

        f.endpoint.functionLevelReset();
        f.endpoint.setAtsEnabled(true);
        f.endpoint.setPasidEnabled(true);
        f.endpoint.enablePri(4);
        deliver(f, true, PASID, 0, 0);

        assertThat(f.endpoint.priState().unexpectedPrgIndex()).isTrue();
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /** FLR ends running work items {@code aborted}; completions still on their way are discarded. */
    @Test
    void functionLevelReset_withWorkItemInFlight_endsItAbortedAndFreesTags() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.makeResident(VA, EndpointFixture.PA);
        f.start(read(VA, 64));
        f.loop.runFor(600);
        assertThat(f.endpoint.outstandingReadTags()).isEqualTo(1);

        f.endpoint.functionLevelReset();
        f.loop.runUntilIdle();

        assertThat(f.outcomes).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DmaStatus.ABORTED));
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        assertThat(f.endpoint.atc.size()).as("late completion not cached").isZero();
    }
}
