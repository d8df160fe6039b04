package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static dev.iommulab.hw.pci.EndpointFixture.untaggedRead;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Descriptor fetches (reference §4): a work item may first read its descriptor from a ring in host
 * memory; when that read errors the function is non-functional until a Function Level Reset, and every
 * later work item fails at once with {@code device-error}.
 */
class DescriptorFetchTest {

    private static final long RING = VA + 0x8000;
    private static final long RING_PA = PA + 0x8000;

    /** The descriptor is read before the data; its bytes are not part of the work item's data. */
    @Test
    void startDma_descriptorReadable_fetchesDescriptorThenData() {
        EndpointFixture f = EndpointFixture.withoutAts(DeviceProfile.NIC, EndpointOptions.DEFAULTS);
        f.iommu.makeResident(RING, RING_PA);
        f.iommu.makeResident(VA, PA);
        f.memory.write(PA, EndpointFixture.bytes(64, 3));

        DmaOutcome outcome = f.run(untaggedRead(VA, 64).withDescriptor(RING + 0x20, 16));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(outcome.data()).isEqualTo(EndpointFixture.bytes(64, 3));
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::addr, DmaRequest::length)
                .containsExactly(tuple(RING + 0x20, 16),
                        tuple(VA, 64));
    }

    /** A descriptor read that errors: the work item fails at the descriptor; the function is non-functional. */
    @ParameterizedTest
    @EnumSource(value = DeviceProfile.class)
    void startDma_descriptorReadFails_deviceErrorForEveryLaterWorkItemUntilFlr(DeviceProfile profile) {
        EndpointFixture f = EndpointFixture.withoutAts(profile, EndpointOptions.DEFAULTS);
        f.iommu.failRequests(RING, CompletionStatus.UR);
        f.iommu.makeResident(VA, PA);

        DmaOutcome failed = f.run(untaggedRead(VA, 64).withDescriptor(RING, 64));

        assertThat(failed.status()).isEqualTo(DmaStatus.UR);
        assertThat(failed.faultAddr()).isEqualTo(RING);
        assertThat(f.endpoint.functional()).isFalse();
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        int requests = f.iommu.memoryRequests.size();

        DmaOutcome later = f.run(untaggedRead(VA, 64));

        assertThat(later.status()).isEqualTo(DmaStatus.DEVICE_ERROR);
        assertThat(later.status().label()).isEqualTo("device-error");
        assertThat(later.faultAddr()).isEqualTo(-1);
        assertThat(f.iommu.memoryRequests).as("fails before any request").hasSize(requests);

        f.endpoint.functionLevelReset();

        assertThat(f.endpoint.functional()).isTrue();
        assertThat(f.run(untaggedRead(VA, 64)).status()).isEqualTo(DmaStatus.OK);
    }

    /** A descriptor page served through PRI is not an error: the fetch waits for the page and goes on. */
    @Test
    void startDma_descriptorPageAbsentWithPri_pageRequestedAndWorkItemSucceeds() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.makeResident(VA, PA);
        f.iommu.onPageRequest(m -> {
            f.iommu.makeResident(m.pageAddr(), RING_PA);
            f.respond(m, PrgResponseCode.SUCCESS.wire());
        });

        DmaOutcome outcome = f.run(read(VA, 32).withDescriptor(RING, 32));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.pageRequests).singleElement().satisfies(pr -> {
            assertThat(pr.pageAddr()).isEqualTo(RING);
            assertThat(pr.read()).isTrue();
        });
        assertThat(f.endpoint.functional()).isTrue();
    }

    /** A descriptor page the host answers Invalid for is a failed fetch too: non-functional until FLR. */
    @Test
    void startDma_descriptorPageInvalid_endsInvalidAndDeviceNonFunctional() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);

        DmaOutcome outcome = f.run(read(VA, 32).withDescriptor(RING + 0x100, 32));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(RING + 0x100);
        assertThat(f.endpoint.functional()).isFalse();
    }
}
