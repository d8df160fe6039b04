package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.pgtable.Access;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PcieEndpoint#addMemoryAccessListener}: every request the IOMMU performed is told with the physical address
 * {@link dev.iommulab.hw.iommu.DmaCompletion#perform} reached, at the instant it was performed — what the lab's
 * {@code dma-within-mappings} invariant compares with the process's page table (DESIGN.md §5).
 */
class MemoryAccessListenerTest {

    private final List<MemoryAccess> accesses = new ArrayList<>();
    private final List<Long> toldAt = new ArrayList<>();

    private EndpointFixture listening(EndpointFixture f) {
        f.endpoint.addMemoryAccessListener(a -> {
            accesses.add(a);
            toldAt.add(f.loop.now());
        });
        return f;
    }

    /**
     * A translated read (ATC filled through ATS): told with the VA, the frame it reached and the PASID, before the
     * read's completion returns to the function.
     */
    @Test
    void read_translatedThroughAts_toldWithVaPaAndPasidBeforeTheWorkItemEnds() {
        EndpointFixture f = listening(EndpointFixture.accelerator());
        f.iommu.makeResident(EndpointFixture.VA, EndpointFixture.PA);

        DmaOutcome o = f.run(EndpointFixture.read(EndpointFixture.VA + 0x10, 64));

        assertThat(o.status()).isEqualTo(DmaStatus.OK);
        assertThat(accesses).extracting(MemoryAccess::rid, MemoryAccess::pasid, MemoryAccess::va, MemoryAccess::pa,
                MemoryAccess::length, MemoryAccess::access, MemoryAccess::translated)
                .containsExactly(tuple(EndpointFixture.RID, EndpointFixture.PASID, EndpointFixture.VA + 0x10,
                        EndpointFixture.PA + 0x10, 64, Access.READ, true));
        assertThat(toldAt.get(0)).isLessThan(o.endNs());
    }

    /** Untranslated posted writes without PASID, split at the MPS: one access per request, pasid -1. */
    @Test
    void write_untranslatedWithoutPasid_oneAccessPerRequest() {
        EndpointFixture f = listening(EndpointFixture.withoutAts(DeviceProfile.GENERIC,
                EndpointOptions.DEFAULTS.withMps(2048)));
        f.iommu.makeResident(EndpointFixture.VA, EndpointFixture.PA);

        f.run(EndpointFixture.untaggedWrite(EndpointFixture.VA, 4096));

        assertThat(accesses).extracting(MemoryAccess::pasid, MemoryAccess::va, MemoryAccess::pa, MemoryAccess::length,
                MemoryAccess::access, MemoryAccess::translated).containsExactly(
                tuple(-1, EndpointFixture.VA, EndpointFixture.PA, 2048, Access.WRITE, false),
                tuple(-1, EndpointFixture.VA + 2048, EndpointFixture.PA + 2048, 2048, Access.WRITE, false));
    }

    /** A request the IOMMU blocked touched nothing and is not told. */
    @Test
    void read_blockedByIommu_notTold() {
        EndpointFixture f = listening(EndpointFixture.withoutAts(DeviceProfile.GENERIC, EndpointOptions.DEFAULTS));
        f.iommu.failRequests(EndpointFixture.VA, CompletionStatus.UR);

        DmaOutcome o = f.run(EndpointFixture.untaggedRead(EndpointFixture.VA, 64));

        assertThat(o.status()).isEqualTo(DmaStatus.UR);
        assertThat(accesses).isEmpty();
    }
}
