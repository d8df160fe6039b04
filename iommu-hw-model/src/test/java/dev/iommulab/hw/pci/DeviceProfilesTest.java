package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static dev.iommulab.hw.pci.EndpointFixture.untaggedRead;
import static dev.iommulab.hw.pci.EndpointFixture.untaggedWrite;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.Test;

/**
 * Device profiles and their documented reactions (reference §4; RV-I256 for the NVMe 8-request
 * example): request sizes, what ends a work item, and that the device goes on afterwards.
 */
class DeviceProfilesTest {

    /** NVMe at the default MPS of 512 B: 4 KiB are 8 requests; one bad page faults 8 times; command fails. */
    @Test
    void nvme_readOfBadPage_eightRequestsEightFaultsCommandFailsAndTagsRetired() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NVME, EndpointOptions.DEFAULTS);
        f.iommu.failRequests(VA, CompletionStatus.UR);

        DmaOutcome outcome = f.run(untaggedRead(VA, 4096));

        assertThat(outcome.status()).isEqualTo(DmaStatus.UR);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(f.iommu.memoryRequests).hasSize(8).allSatisfy(mr -> assertThat(mr.length()).isEqualTo(512));
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::addr)
                .containsExactly(VA, VA + 512, VA + 1024, VA + 1536, VA + 2048, VA + 2560, VA + 3072, VA + 3584);
        assertThat(f.endpoint.readTagHighWater()).as("all 8 issued at once").isEqualTo(8);
        assertThat(f.endpoint.outstandingReadTags()).isZero();
    }

    /** NVMe writes are posted: all 8 go out and fault; the controller cannot tell; the outcome is dropped. */
    @Test
    void nvme_writeToBadPage_allEightWritesIssuedAndDropped() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NVME, EndpointOptions.DEFAULTS);

        DmaOutcome outcome = f.run(untaggedWrite(VA, 4096));

        assertThat(outcome.status()).isEqualTo(DmaStatus.DROPPED);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(f.iommu.memoryRequests).hasSize(8);
    }

    /** MPS is configurable: 256 B gives 16 requests per page; a part page starts at its MPS boundary. */
    @Test
    void nvme_mps256_sixteenRequestsPerPageAlignedToMps() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NVME, EndpointOptions.DEFAULTS.withMps(256));
        f.iommu.makeResident(VA, PA);
        f.iommu.makeResident(VA + 0x1000, PA + 0x1000);

        assertThat(f.run(untaggedRead(VA, 4096)).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.memoryRequests).hasSize(16);

        f.iommu.memoryRequests.clear();
        assertThat(f.run(untaggedRead(VA + 0xf80, 0x100)).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::addr, DmaRequest::length)
                .containsExactly(tuple(VA + 0xf80, 0x80),
                        tuple(VA + 0x1000, 0x80));
    }

    /** With fewer tags than requests the controller waits for tags to retire; every read still completes. */
    @Test
    void nvme_fourTags_neverMoreThanFourReadsOutstandingAndDataComplete() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NVME, EndpointOptions.DEFAULTS.withReadTags(4));
        f.iommu.makeResident(VA, PA);
        f.memory.write(PA, EndpointFixture.bytes(4096, 7));

        DmaOutcome outcome = f.run(untaggedRead(VA, 4096));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(outcome.data()).isEqualTo(EndpointFixture.bytes(4096, 7));
        assertThat(f.endpoint.readTagHighWater()).isEqualTo(4);
        assertThat(f.endpoint.outstandingReadTags()).isZero();
    }

    /** NVMe with ATS: one translation per page, then MPS-sized translated requests. */
    @Test
    void nvme_withAts_oneTranslationThenEightTranslatedRequests() {
        EndpointFixture f = new EndpointFixture(DeviceProfile.NVME, true, false, 0, EndpointOptions.DEFAULTS);
        f.iommu.makeResident(VA, PA);

        assertThat(f.run(read(VA, 4096)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.translationRequests).hasSize(1);
        assertThat(f.iommu.memoryRequests).hasSize(8)
                .allSatisfy(mr -> assertThat(mr.addressType()).isEqualTo(AddressType.TRANSLATED));
    }

    /** A generic DMA master sends one request per page (MPS 4 KiB). */
    @Test
    void generic_readOfTwoPages_oneRequestPerPage() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.GENERIC, EndpointOptions.DEFAULTS);
        f.iommu.makeResident(VA, PA);
        f.iommu.makeResident(VA + 0x1000, PA + 0x1000);

        assertThat(f.run(untaggedRead(VA, 0x2000)).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::length).containsExactly(4096, 4096);
    }

    /** NIC: a failed frame read drops that frame; the NIC stays functional and the next frame goes out. */
    @Test
    void nic_failedFrameRead_dropsFrameAndNextFrameSucceeds() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NIC, EndpointOptions.DEFAULTS);
        f.iommu.failRequests(VA, CompletionStatus.CA);
        f.iommu.makeResident(VA + 0x1000, PA);

        DmaOutcome dropped = f.run(untaggedRead(VA + 0x40, 1500));
        DmaOutcome next = f.run(untaggedRead(VA + 0x1000, 1500));

        assertThat(dropped.status()).isEqualTo(DmaStatus.CA);
        assertThat(dropped.faultAddr()).isEqualTo(VA + 0x40);
        assertThat(next.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.endpoint.functional()).isTrue();
    }

    /** Accelerator: Invalid Request fails the work item with the faulting address; PRI stays usable. */
    @Test
    void accelerator_invalidRequest_failsWithFaultingAddressAndPriStaysUsable() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);
        f.iommu.makeResident(VA, PA);

        DmaOutcome outcome = f.run(read(VA + 0xff0, 0x20));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x1000);
        assertThat(f.endpoint.priState().responseFailure()).isFalse();
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.iommu.pageRequests).singleElement()
                .satisfies(pr -> assertThat(pr.pasid()).isEqualTo(PASID));
    }
}
