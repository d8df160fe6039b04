package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.RID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static dev.iommulab.hw.pci.EndpointFixture.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;

/**
 * The function's side of ATS invalidation: which ATC entries an Invalidate Request covers (PASID,
 * Global Invalidate, range), the Invalidate Completion with the request's ITAG, its ordering behind reads
 * that use a stale translation, nullified translation requests, and the "never completes" fault knob
 * (reference §2.2.5, §6 scenarios 14, 27, 38).
 */
class AtsInvalidationTest {

    private static final AtsCompletion RW = new AtsCompletion(CompletionStatus.SUCCESS, PA, 4096, true, true, false,
            false);

    private static EndpointFixture fixture(EndpointOptions options) {
        return new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 8, options);
    }

    /** Fills ATC entries for PASIDs 3 and 4 and for no PASID, all at page VA. */
    private static void fillThree(EndpointFixture f) {
        f.endpoint.atc.fill(PASID, false, VA, RW);
        f.endpoint.atc.fill(PASID + 1, false, VA, RW);
        f.endpoint.atc.fill(-1, false, VA, RW);
    }

    private static void invalidate(EndpointFixture f, boolean pasidPresent, int pasid, boolean global, int itag) {
        f.fabric.sendAtsInvalidate(new AtsInvalidateRequest(RID, pasidPresent, pasid, global, VA, 0x1000, itag));
        f.loop.runUntilIdle();
    }

    /** A PASID-tagged request drops that PASID's entry only and completes with its ITAG one TLP later. */
    @Test
    void atsInvalidate_withPasid_dropsOnlyThatPasidAndCompletesWithItag() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        fillThree(f);

        invalidate(f, true, PASID, false, 5);

        assertThat(f.endpoint.atc.lookup(PASID, false, VA)).isNull();
        assertThat(f.endpoint.atc.lookup(PASID + 1, false, VA)).isNotNull();
        assertThat(f.endpoint.atc.lookup(-1, false, VA)).isNotNull();
        assertThat(f.iommu.invalidateCompletions).singleElement().satisfies(c -> {
            assertThat(c.rid()).isEqualTo(RID);
            assertThat(c.itagVector()).isEqualTo(1 << 5);
            assertThat(c.atNs()).isEqualTo(2 * TimingModel.ESTIMATES.pcieTlpNs());
        });
    }

    /** Global Invalidate with a PASID prefix covers every PASID when the function supports it. */
    @Test
    void atsInvalidate_globalSupported_dropsEveryPasidsEntry() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        fillThree(f);

        invalidate(f, true, PASID, true, 0);

        assertThat(f.endpoint.atc.lookup(PASID, false, VA)).isNull();
        assertThat(f.endpoint.atc.lookup(PASID + 1, false, VA)).isNull();
        assertThat(f.iommu.invalidateCompletions).hasSize(1);
    }

    /** Without Global Invalidate Supported the function ignores the bit: only the named PASID goes. */
    @Test
    void atsInvalidate_globalNotSupported_bitIgnored() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS.withGlobalInvalidateSupported(false));
        fillThree(f);

        invalidate(f, true, PASID, true, 0);

        assertThat(f.endpoint.atc.lookup(PASID, false, VA)).isNull();
        assertThat(f.endpoint.atc.lookup(PASID + 1, false, VA)).isNotNull();
    }

    /** Without a PASID prefix the request covers translations requested without a PASID; G is reserved. */
    @Test
    void atsInvalidate_withoutPasid_dropsOnlyUntaggedEntriesEvenWithGlobalBit() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        fillThree(f);

        invalidate(f, false, 0, true, 1);

        assertThat(f.endpoint.atc.lookup(-1, false, VA)).isNull();
        assertThat(f.endpoint.atc.lookup(PASID, false, VA)).isNotNull();
        assertThat(f.endpoint.atc.lookup(PASID + 1, false, VA)).isNotNull();
    }

    /** Any overlap counts: invalidating one 4 KiB page drops the 2 MiB translation around it. */
    @Test
    void atsInvalidate_pageInsideLargeTranslation_dropsTheLargeEntry() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.atc.fill(PASID, false, VA, new AtsCompletion(CompletionStatus.SUCCESS, 0x20_0000L, 2L << 20, true,
                true, false, false));
        assertThat(f.endpoint.atc.lookup(PASID, false, VA + 0x5000)).isNotNull();

        f.fabric.sendAtsInvalidate(new AtsInvalidateRequest(RID, true, PASID, false, VA + 0x5000, 0x1000, 2));
        f.loop.runUntilIdle();

        assertThat(f.endpoint.atc.size()).isZero();
    }

    /** Fault knob: the entries are dropped but no Invalidate Completion is ever sent. */
    @Test
    void atsInvalidate_neverCompletesKnob_dropsEntriesWithoutCompletion() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS.withInvalidationsNeverComplete(true));
        fillThree(f);

        invalidate(f, true, PASID, false, 3);

        assertThat(f.endpoint.atc.lookup(PASID, false, VA)).isNull();
        assertThat(f.iommu.invalidateCompletions).isEmpty();

        f.endpoint.setInvalidationsNeverComplete(false);
        invalidate(f, true, PASID + 1, false, 4);
        assertThat(f.iommu.invalidateCompletions).extracting(FakeIommu.InvalidateCompletion::itagVector)
                .containsExactly(1 << 4);
    }

    /**
     * The completion is held while a read that used the invalidated translation is outstanding, and is
     * sent once that read's completion has come back.
     */
    @Test
    void atsInvalidate_translatedReadOutstanding_completionWaitsForTheRead() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.atc.fill(PASID, false, VA, RW);
        long[] readDoneAt = {-1};
        f.start(read(VA, 8));
        f.loop.runFor(100);
        assertThat(f.endpoint.outstandingReadTags()).isEqualTo(1);

        f.endpoint.atsInvalidate(new AtsInvalidateRequest(RID, true, PASID, false, VA, 0x1000, 7));
        f.loop.runUntilIdle();
        readDoneAt[0] = f.outcomes.get(0).endNs();

        assertThat(f.outcomes.get(0).status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.invalidateCompletions).singleElement()
                .satisfies(c -> assertThat(c.atNs()).isGreaterThanOrEqualTo(readDoneAt[0]));
    }

    /**
     * A translation request outstanding when an overlapping invalidation arrives is nullified: its
     * completion (the old translation) is discarded, nothing is cached from it and it is asked again.
     */
    @Test
    void atsInvalidate_translationRequestOutstanding_completionDiscardedAndRetried() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        long newPa = PA + 0x1000;
        f.iommu.makeResident(VA, PA);
        f.iommu.onTranslationRequest(tr -> {
            if (f.iommu.translationRequests.size() == 1) {
                f.iommu.makeResident(VA, newPa);
                f.endpoint.atsInvalidate(new AtsInvalidateRequest(RID, true, PASID, false, VA, 0x1000, 1));
            }
        });

        DmaOutcome outcome = f.run(read(VA, 8));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.iommu.translationRequests).hasSize(2);
        assertThat(f.iommu.memoryRequests).extracting(DmaRequest::addr).containsExactly(newPa);
        assertThat(f.iommu.invalidateCompletions).hasSize(1);
    }

    /** FLR empties the ATC and forgets outstanding reads, so a held completion goes out. */
    @Test
    void functionLevelReset_invalidationHeldForRead_completionSent() {
        EndpointFixture f = fixture(EndpointOptions.DEFAULTS);
        f.endpoint.atc.fill(PASID, false, VA, RW);
        f.start(read(VA, 8));
        f.loop.runFor(100);
        f.endpoint.atsInvalidate(new AtsInvalidateRequest(RID, true, PASID, false, VA, 0x1000, 9));
        assertThat(f.iommu.invalidateCompletions).isEmpty();

        f.endpoint.functionLevelReset();
        f.loop.runUntilIdle();

        assertThat(f.iommu.invalidateCompletions).extracting(FakeIommu.InvalidateCompletion::itagVector)
                .containsExactly(1 << 9);
    }
}
