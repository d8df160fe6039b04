package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.RID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PcieEndpoint#stopPasid}: the device driver stops a PASID (reference §6 scenario 46; §1.4 Stop
 * Marker): work items of the PASID end after their outstanding requests retire, unsent requests are
 * dropped, an open group gets its LPIG, then the Stop Marker follows the PASID's last request.
 */
class StopPasidTest {

    private static PageRequestMessage raw(int prgi, boolean last, long page) {
        return new PageRequestMessage(RID, true, PASID, false, false, true, false, last, prgi, page);
    }

    /** A read on the wire is not abandoned: the work item ends once its completion has retired the tag. */
    @Test
    void stopPasid_readOutstanding_abortsAfterTheReadRetires() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.endpoint.atc.fill(PASID, false, VA,
                new AtsCompletion(CompletionStatus.SUCCESS, PA, 4096, true, true, false, false));
        List<String> events = new ArrayList<>();
        f.endpoint.startDma(read(VA, 8), o -> events.add("dma " + o.status().label() + " @" + f.loop.now()));
        f.loop.runFor(100);

        f.endpoint.stopPasid(PASID, () -> events.add("stopped @" + f.loop.now()));
        assertThat(events).as("the read is still outstanding").isEmpty();
        f.loop.runUntilIdle();

        assertThat(events).containsExactly("dma aborted @1100", "stopped @1100");
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        assertThat(f.iommu.pageRequests).singleElement().satisfies(m -> assertThat(m.isStopMarker()).isTrue());
    }

    /** A group with requests sent but no LPIG yet is finished with an LPIG (its last page again), then the marker. */
    @Test
    void stopPasid_openGroup_sendsLpigThenStopMarker() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.endpoint.sendPageRequest(raw(6, false, VA), null);
        f.endpoint.sendPageRequest(raw(6, false, VA + 0x1000), null);
        f.loop.runUntilIdle();

        f.endpoint.stopPasid(PASID);
        f.loop.runUntilIdle();

        assertThat(f.iommu.pageRequests).hasSize(4);
        PageRequestMessage lpig = f.iommu.pageRequests.get(2);
        assertThat(lpig.prgi()).isEqualTo(6);
        assertThat(lpig.last()).isTrue();
        assertThat(lpig.pageAddr()).isEqualTo(VA + 0x1000);
        assertThat(f.iommu.pageRequests.get(3).isStopMarker()).isTrue();
        assertThat(f.endpoint.priState().creditsInUse()).isEqualTo(3);
    }

    /**
     * Groups of the PASID still waiting for credits are dropped (never sent, never answered); the marker
     * does not wait for them, and another PASID's waiting group is kept.
     */
    @Test
    void stopPasid_groupsWaitingForCredits_dropsThisPasidsAndKeepsOthers() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 1, EndpointOptions.DEFAULTS);
        f.endpoint.sendPageRequest(raw(0, true, VA), null);
        f.start(read(VA + 0x1000, 8));
        f.start(new DmaJob(VA + 0x2000, 8, Access.READ, PASID + 1, false, null));
        f.loop.runUntilIdle();
        assertThat(f.iommu.pageRequests).hasSize(1);

        f.endpoint.stopPasid(PASID);
        f.loop.runUntilIdle();

        assertThat(f.iommu.pageRequests).hasSize(2);
        assertThat(f.iommu.pageRequests.get(1).isStopMarker()).isTrue();
        assertThat(f.outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.ABORTED);

        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);
        f.respond(f.iommu.pageRequests.get(0), PrgResponseCode.SUCCESS.wire());
        f.loop.runUntilIdle();

        assertThat(f.iommu.pageRequests).hasSize(3);
        assertThat(f.iommu.pageRequests.get(2).pasid()).isEqualTo(PASID + 1);
        assertThat(f.outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.ABORTED, DmaStatus.OK);
    }

    /** With PRI disabled no page request protocol runs: no marker, and the stop completes at once. */
    @Test
    void stopPasid_priDisabled_noStopMarkerAndStoppedAtOnce() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.endpoint.disablePri();
        boolean[] stopped = {false};

        f.endpoint.stopPasid(PASID, () -> stopped[0] = true);
        f.loop.runUntilIdle();

        assertThat(stopped[0]).isTrue();
        assertThat(f.iommu.pageRequests).isEmpty();
    }

    /** A late response to the stopped PASID's group still returns its credits; nobody is waiting for it. */
    @Test
    void stopPasid_thenResponseForItsGroup_creditsReturned() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.start(read(VA, 8));
        f.loop.runUntilIdle();
        f.endpoint.stopPasid(PASID);
        f.loop.runUntilIdle();

        f.respond(f.iommu.pageRequests.get(0), PrgResponseCode.SUCCESS.wire());
        f.loop.runUntilIdle();

        assertThat(f.endpoint.priState().creditsInUse()).isZero();
        assertThat(f.outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.ABORTED);
        assertThat(f.iommu.translationRequests).as("no retry for an aborted work item").hasSize(1);
    }

    @Test
    void stopPasid_pasidWiderThan20Bits_throws() {
        EndpointFixture f = EndpointFixture.accelerator();

        assertThatThrownBy(() -> f.endpoint.stopPasid(1 << 20)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("20 bits");
    }
}
