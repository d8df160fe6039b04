package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static dev.iommulab.hw.pci.EndpointFixture.untaggedRead;
import static dev.iommulab.hw.pci.EndpointFixture.untaggedWrite;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * reference/iommu-hardware.md §6 scenarios 43-48, the device-side ones, one or more tests each, named
 * after the scenario.
 */
class EndpointScenariosTest {

    /**
     * Scenario 43 on the DMA path: code 1111b or any unused code ends the work item {@code pri-failed} and
     * sets RF; the next miss is a hard error without a page request; a later response is ignored.
     */
    @ParameterizedTest(name = "wire code {0}")
    @ValueSource(ints = {0xf, 0x2, 0x7, 0xe})
    void scenario43_responseFailureOrUnusedCode_setsRfAndLaterMissesFailWithoutPageRequest(int wireCode) {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(wireCode, false);

        DmaOutcome outcome = f.run(read(VA, 4));

        assertThat(outcome.status()).isEqualTo(DmaStatus.PRI_FAILED);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(f.endpoint.priState().responseFailure()).isTrue();
        assertThat(f.endpoint.priState().creditsInUse()).as("the failing group's credits came back").isZero();

        DmaOutcome next = f.run(read(VA + 0x2000, 4));

        assertThat(next.status()).isEqualTo(DmaStatus.PRI_FAILED);
        assertThat(f.iommu.pageRequests).as("no page request while RF is set").hasSize(1);
        f.respond(f.iommu.pageRequests.get(0), PrgResponseCode.SUCCESS.wire());
        f.loop.runUntilIdle();
        assertThat(f.endpoint.priState().unexpectedPrgIndex()).as("ignored, not even unexpected").isFalse();
    }

    /** Scenario 43: a Response Failure also releases work items waiting on other groups: their PRI is gone. */
    @Test
    void scenario43_responseFailure_releasesWorkItemsWaitingOnOtherGroups() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.start(read(VA, 4));
        f.start(read(VA + 0x5000, 4));
        f.loop.runUntilIdle();
        assertThat(f.iommu.pageRequests).hasSize(2);

        f.respond(f.iommu.pageRequests.get(0), PrgResponseCode.RESPONSE_FAILURE.wire());
        f.loop.runUntilIdle();

        assertThat(f.outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.PRI_FAILED,
                DmaStatus.PRI_FAILED);
        assertThat(f.endpoint.priState().creditsInUse()).as("the unanswered group keeps its credit").isEqualTo(1);
        assertThat(f.endpoint.priState().stopped()).isFalse();
    }

    /** Scenario 43 recovery: disable, Reset and re-enable PRI (pci_reset_pri) and the next miss is served. */
    @Test
    void scenario43_disableResetReenable_recoversPriAndNextWorkItemSucceeds() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.RESPONSE_FAILURE.wire(), false);
        f.run(read(VA, 4));

        f.endpoint.disablePri();
        assertThat(f.endpoint.resetPri()).isTrue();
        f.endpoint.enablePri(8);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 4)).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.endpoint.priState().responseFailure()).isFalse();
    }

    /** Scenario 43 recovery by FLR: software restores ATS, PASID and PRI; the function works again. */
    @Test
    void scenario43_flrAndRestore_recoversPri() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.RESPONSE_FAILURE.wire(), false);
        f.run(read(VA, 4));

        f.endpoint.functionLevelReset();
        assertThat(f.endpoint.priState()).isEqualTo(new PriState(false, false, false, true, 0, 0));
        f.endpoint.setAtsEnabled(true);
        f.endpoint.setPasidEnabled(true);
        f.endpoint.enablePri(8);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 4)).status()).isEqualTo(DmaStatus.OK);
    }

    /**
     * Scenario 44: after a Success that did not make the page resident (an IOMMU auto-response), the
     * function retries its translation, gets R = W = 0 again and re-sends the page request; it completes
     * once the page is mapped.
     */
    @Test
    void scenario44_successWithoutMapping_retriesTranslationAndResendsPageRequest() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.onPageRequest(m -> {
            if (f.iommu.pageRequests.size() >= 2) {
                f.iommu.makeResident(m.pageAddr(), PA);
            }
            f.respond(m, PrgResponseCode.SUCCESS.wire());
        });

        DmaOutcome outcome = f.run(read(VA, 8));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.pageRequests).hasSize(2).allSatisfy(pr -> assertThat(pr.pageAddr()).isEqualTo(VA));
        assertThat(f.iommu.translationCompletions).extracting(c -> c.read() || c.write())
                .containsExactly(false, false, true);
    }

    /**
     * Scenario 45: with allocation A, many work items missing at once never have more than A page
     * requests outstanding; each response returns its credit and lets the next group go.
     */
    @Test
    void scenario45_moreMissesThanAllocation_neverMoreThanAllocationOutstandingAndAllComplete() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 2, EndpointOptions.DEFAULTS);
        List<Integer> outstandingSeen = new ArrayList<>();
        f.iommu.onPageRequest(m -> {
            outstandingSeen.add(f.endpoint.priState().creditsInUse());
            f.iommu.makeResident(m.pageAddr(), PA);
            f.loop.schedule(5_000, "host", () -> f.respond(m, PrgResponseCode.SUCCESS.wire()));
        });
        for (int i = 0; i < 6; i++) {
            f.start(read(VA + i * 0x1000L, 8));
        }
        f.loop.runUntilIdle();

        assertThat(f.outcomes).hasSize(6).allSatisfy(o -> assertThat(o.status()).isEqualTo(DmaStatus.OK));
        assertThat(f.iommu.pageRequests).hasSize(6);
        assertThat(outstandingSeen).allSatisfy(n -> assertThat(n).isLessThanOrEqualTo(2));
        assertThat(f.endpoint.creditHighWater()).isEqualTo(2);
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /**
     * Scenario 46: a function stopping PASID p sends a Stop Marker (PASID p, L = 1, R = W = 0) after its
     * last page request for p; it needs no response and takes no credit.
     */
    @Test
    void scenario46_stopPasidWithGroupOutstanding_stopMarkerFollowsLastPageRequest() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.start(read(VA, 8));
        f.loop.runUntilIdle();
        List<String> events = new ArrayList<>();

        f.endpoint.stopPasid(PASID, () -> events.add("stopped"));
        f.loop.runUntilIdle();

        assertThat(f.iommu.pageRequests).hasSize(2);
        PageRequestMessage marker = f.iommu.pageRequests.get(1);
        assertThat(marker.isStopMarker()).isTrue();
        assertThat(marker.pasid()).isEqualTo(PASID);
        assertThat(marker.last()).isTrue();
        assertThat(marker.read() || marker.write()).isFalse();
        assertThat(events).containsExactly("stopped");
        assertThat(f.outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.ABORTED);
        assertThat(f.endpoint.priState().creditsInUse()).as("marker takes no credit").isEqualTo(1);
    }

    /**
     * Scenario 47: a faulting untranslated posted write: the function sees nothing, memory is unchanged. The page is
     * mapped read-only to {@code PA}, so the write faults on its rights and {@code PA} (filled with a pattern first)
     * is exactly where it would have landed had it gone through.
     */
    @Test
    @DisplayName("iommu-hardware §6 item 47: a faulting posted write is dropped unseen, the page it targets unchanged")
    void scenario47_untranslatedWriteFaults_endsDroppedAndMemoryUnchanged() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.GENERIC, EndpointOptions.DEFAULTS);
        f.iommu.makeReadOnly(VA, PA);
        byte[] before = EndpointFixture.bytes(16, 0x60);
        f.memory.write(PA, before);

        DmaOutcome outcome = f.run(untaggedWrite(VA, 4));

        assertThat(outcome.status()).isEqualTo(DmaStatus.DROPPED);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(f.iommu.memoryRequests).singleElement()
                .satisfies(mr -> assertThat(mr.addressType()).isEqualTo(AddressType.UNTRANSLATED));
        assertThat(f.memory.read(PA, 16)).as("the page VA translates to").isEqualTo(before);
        assertThat(f.endpoint.outstandingReadTags()).isZero();
    }

    /** Scenario 47: as the function cannot tell, it goes on writing the pages after the bad one. */
    @Test
    void scenario47_writeAcrossBadPage_laterPagesStillWritten() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.GENERIC, EndpointOptions.DEFAULTS);
        f.iommu.makeResident(VA + 0x1000, PA);

        DmaOutcome outcome = f.run(untaggedWrite(VA + 0xffc, 8));

        assertThat(outcome.status()).isEqualTo(DmaStatus.DROPPED);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0xffc);
        assertThat(f.iommu.memoryRequests).hasSize(2);
        assertThat(f.memory.read(PA, 4)).isEqualTo(new byte[] {0x14, 0x15, 0x16, 0x17});
    }

    /** Scenario 48: a read that gets UR or CA retires its tag and ends the work item with that error. */
    @ParameterizedTest
    @EnumSource(value = CompletionStatus.class, names = {"UR", "CA"})
    void scenario48_readGetsErrorCompletion_retiresTagAndEndsWithError(CompletionStatus status) {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.GENERIC, EndpointOptions.DEFAULTS);
        f.iommu.failRequests(VA, status);

        DmaOutcome outcome = f.run(untaggedRead(VA + 4, 4));

        assertThat(outcome.status().name()).isEqualTo(status.name());
        assertThat(outcome.faultAddr()).isEqualTo(VA + 4);
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        assertThat(f.endpoint.readTagHighWater()).isEqualTo(1);
        assertThat(f.loop.isIdle()).isTrue();
    }

    /** Scenario 48 with one tag: failing reads keep retiring it, so the next work item is not stuck. */
    @Test
    void scenario48_singleTagAndFailingReads_laterReadsStillRun() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NVME, EndpointOptions.DEFAULTS.withReadTags(1));
        f.iommu.failRequests(VA, CompletionStatus.UR);
        f.iommu.makeResident(VA + 0x1000, PA);

        assertThat(f.run(untaggedRead(VA, 0x1000)).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.run(untaggedRead(VA + 0x1000, 0x1000)).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.memoryRequests).hasSize(16);
        assertThat(f.endpoint.readTagHighWater()).isEqualTo(1);
        assertThat(f.endpoint.outstandingReadTags()).isZero();
    }
}
