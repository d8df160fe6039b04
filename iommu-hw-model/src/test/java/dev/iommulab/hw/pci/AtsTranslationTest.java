package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static dev.iommulab.hw.pci.EndpointFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ATS Translation Completions and the function's reaction to each (reference §1.3; §3.3; §2.2.6 for the
 * SMMU's exact outcome table): Success with R = W = 0, partial permissions, UR, CA, larger translations,
 * and an ATC of 0 entries.
 */
class AtsTranslationTest {

    /** §1.3: R = W = 0 means "not accessible now": a page request, nothing cached, then the retry succeeds. */
    @Test
    void translationRequest_successNoRights_sendsPageRequestAndCachesNothingUntilResident() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.hostAnswers(PrgResponseCode.SUCCESS.wire(), true);

        assertThat(f.run(read(VA, 8)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.translationCompletions.get(0).read()).isFalse();
        assertThat(f.iommu.pageRequests).singleElement().satisfies(pr -> {
            assertThat(pr.read()).isTrue();
            assertThat(pr.write()).isFalse();
            assertThat(pr.last()).isTrue();
        });
        assertThat(f.endpoint.atc.size()).isEqualTo(1);
    }

    /**
     * §1.3 partial permissions: a write to a page the completion grants only R = 1 W = 0 asks for the page
     * for write; the read-only translation is cached, so a later read of the page needs no translation.
     */
    @Test
    void translationRequest_readOnlyForWrite_requestsPageForWriteAndCachesReadRight() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.makeReadOnly(VA, PA);
        f.iommu.onPageRequest(m -> {
            f.iommu.makeResident(m.pageAddr(), PA);
            f.respond(m, PrgResponseCode.SUCCESS.wire());
        });
        f.endpoint.startDma(read(VA, 4), f.outcomes::add);
        f.loop.runUntilIdle();
        assertThat(f.iommu.translationRequests).hasSize(1);

        DmaOutcome outcome = f.run(write(VA + 4, 4));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.translationRequests).hasSize(3);
        assertThat(f.iommu.translationRequests.get(1).noWrite()).isFalse();
        assertThat(f.iommu.translationCompletions.get(1).read()).isTrue();
        assertThat(f.iommu.translationCompletions.get(1).write()).isFalse();
        assertThat(f.iommu.pageRequests).singleElement().satisfies(pr -> {
            assertThat(pr.write()).isTrue();
            assertThat(pr.read()).isFalse();
        });
        assertThat(f.memory.read(PA + 4, 4)).isEqualTo(EndpointFixture.bytes(4, 0x10));
    }

    /** §1.3: UR (ATS refused) and CA (configuration error) end the work item with that status, no PRI. */
    @ParameterizedTest
    @EnumSource(value = CompletionStatus.class, names = {"UR", "CA"})
    void translationRequest_errorCompletion_endsWithThatStatusWithoutPageRequest(CompletionStatus status) {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.answerTranslation(VA, AtsCompletion.error(status));

        DmaOutcome outcome = f.run(read(VA + 0x10, 4));

        assertThat(outcome.status().name()).isEqualTo(status.name());
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x10);
        assertThat(f.iommu.pageRequests).isEmpty();
        assertThat(f.iommu.memoryRequests).isEmpty();
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        assertThat(f.endpoint.atc.size()).isZero();
    }

    /** A 2 MiB translation is cached once and serves the following 4 KiB pages without new requests. */
    @Test
    void translationRequest_largeTranslation_servesLaterPagesFromOneAtcEntry() {
        EndpointFixture f = EndpointFixture.accelerator();
        long base = 0x20_0000L;
        f.iommu.answerTranslation(VA, new AtsCompletion(CompletionStatus.SUCCESS, base, 2L << 20, true, true,
                false, false));

        assertThat(f.run(read(VA, 3 * 4096)).status()).isEqualTo(DmaStatus.OK);

        assertThat(f.iommu.translationRequests).hasSize(1);
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::addr)
                .containsExactly(base, base + 0x1000, base + 0x2000);
        assertThat(f.endpoint.atc.size()).isEqualTo(1);
    }

    /** An ATC of 0 entries caches nothing: every page of every work item is translated again. */
    @Test
    void translationRequest_atcOfZeroEntries_translatesEveryTime() {
        EventLoop loop = new EventLoop(1);
        FakeIommu iommu = new FakeIommu(new dev.iommulab.hw.mem.PhysicalMemory(1L << 20));
        PcieEndpoint ep = new PcieEndpoint(new EndpointConfig("nic0", 0x0300, DeviceProfile.NIC, true, false, 0, 1, 0,
                1), loop, TimingModel.ESTIMATES);
        ep.connect(iommu);
        ep.setAtsEnabled(true);
        iommu.makeResident(VA, PA);
        for (int i = 0; i < 2; i++) {
            ep.startDma(EndpointFixture.untaggedRead(VA, 8), o -> assertThat(o.status()).isEqualTo(DmaStatus.OK));
            loop.runUntilIdle();
        }

        assertThat(iommu.translationRequests).hasSize(2);
        assertThat(iommu.memoryRequests).allSatisfy(mr ->
                assertThat(mr.addressType()).isEqualTo(AddressType.TRANSLATED));
    }

    /** A translation request takes a read tag like any non-posted request and gives it back. */
    @Test
    void translationRequest_inFlight_holdsATagUntilItsCompletion() {
        EndpointFixture f = EndpointFixture.accelerator();
        f.iommu.makeResident(VA, PA);
        f.start(read(VA, 8));
        f.loop.runFor(600);

        assertThat(f.endpoint.outstandingReadTags()).isEqualTo(1);
        assertThat(f.iommu.translationRequests).hasSize(1);
        f.loop.runUntilIdle();
        assertThat(f.endpoint.outstandingReadTags()).isZero();
        assertThat(f.endpoint.readTagHighWater()).isEqualTo(1);
    }
}
