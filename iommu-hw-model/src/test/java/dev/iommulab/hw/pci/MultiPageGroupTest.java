package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static dev.iommulab.hw.pci.EndpointFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Page request groups of several pages (reference §1.4: several requests with one PRGI, only the last
 * with L; one response for the group): the accelerator's {@link EndpointOptions#multiPageGroups} option,
 * its cap at the PRI allocation, and that a group only goes out with all its credits.
 */
class MultiPageGroupTest {

    private static final EndpointOptions RANGE = EndpointOptions.DEFAULTS.withMultiPageGroups(true);

    private static List<Integer> prgis(EndpointFixture f) {
        return f.iommu.pageRequests.stream().map(PageRequestMessage::prgi).toList();
    }

    /** A 4-page miss is one group: 4 requests with one PRGI, L only on the last, answered once. */
    @Test
    void startDma_rangeOption_requestsWholeRangeInOneGroup() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 8, RANGE);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        DmaOutcome outcome = f.run(write(VA + 0x10, 0x3ff0));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.pageRequests).hasSize(4);
        assertThat(prgis(f)).containsOnly(f.iommu.pageRequests.get(0).prgi());
        assertThat(f.iommu.pageRequests).extracting(PageRequestMessage::last)
                .containsExactly(false, false, false, true);
        assertThat(f.iommu.pageRequests).extracting(PageRequestMessage::pageAddr)
                .containsExactly(VA, VA + 0x1000, VA + 0x2000, VA + 0x3000);
        assertThat(f.iommu.pageRequests).allSatisfy(pr -> assertThat(pr.write()).isTrue());
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
        assertThat(f.endpoint.creditHighWater()).isEqualTo(4);
    }

    /** Without the option (the default) every missing page is its own one-request group. */
    @Test
    void startDma_defaultOptions_oneGroupPerPage() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 0x3000)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.pageRequests).hasSize(3).allSatisfy(pr -> assertThat(pr.last()).isTrue());
        assertThat(prgis(f)).doesNotHaveDuplicates();
    }

    /** A group never exceeds the allocation (it could never get all its credits): 5 pages at 2 = 2+2+1. */
    @Test
    void startDma_rangeLargerThanAllocation_groupsCappedAtAllocation() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 2, RANGE);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 0x5000)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.pageRequests).extracting(PageRequestMessage::last)
                .containsExactly(false, true, false, true, true);
        assertThat(f.endpoint.creditHighWater()).isEqualTo(2);
    }

    /**
     * Two work items each needing a group as large as the allocation: a group goes out only with all its
     * credits, so the second goes out whole after the first's response, never interleaved with it.
     */
    @Test
    void startDma_twoFullSizeGroups_secondWaitsForFirstAndBothComplete() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 3, RANGE);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);
        f.start(read(VA, 0x3000));
        f.start(read(VA + 0x10_0000, 0x3000));
        f.loop.runUntilIdle();

        assertThat(f.outcomes).hasSize(2).allSatisfy(o -> assertThat(o.status()).isEqualTo(DmaStatus.OK));
        List<Integer> order = prgis(f);
        assertThat(order.subList(0, 3)).containsOnly(order.get(0));
        assertThat(order.subList(3, 6)).containsOnly(order.get(3));
        assertThat(f.endpoint.creditHighWater()).isEqualTo(3);
    }

    /** Invalid for a range group: the device cannot tell which page, so it reports the group's first byte. */
    @Test
    void startDma_rangeGroupAnsweredInvalid_faultAddrIsWhereTheGroupStarts() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 8, RANGE);
        f.iommu.makeResident(VA, PA);
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);

        DmaOutcome outcome = f.run(read(VA + 0x800, 0x2000));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x1000);
        assertThat(f.iommu.pageRequests).extracting(PageRequestMessage::pageAddr)
                .containsExactly(VA + 0x1000, VA + 0x2000);
    }

    /** The option belongs to the accelerator profile; a NIC keeps one-page groups. */
    @Test
    void startDma_rangeOptionOnNic_oneGroupPerPage() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.NIC, true, true, 8, RANGE);
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 0x2000)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.pageRequests).hasSize(2).allSatisfy(pr -> assertThat(pr.last()).isTrue());
    }
}
