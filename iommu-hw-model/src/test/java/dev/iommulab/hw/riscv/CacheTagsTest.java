package dev.iommulab.hw.riscv;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pgtable.RiscvPagingMode;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The tags the IOMMU's caches are keyed by, packed into a {@code long}: each field comes back as it went in at
 * the limits of its width (24-bit device_id, 20-bit process_id and PSCID, 16-bit GSCID), and different fields
 * never give the same tag.
 */
class CacheTagsTest {

    @Test
    void processContextTag_deviceAndProcessIdAtTheirLimits_roundTripAndDistinct() {
        Set<Long> tags = new HashSet<>();
        for (int did : new int[] {0, 1, 0xfffffe, 0xffffff}) {
            for (int pid : new int[] {0, 1, 0xffffe, 0xfffff}) {
                long tag = ProcessContextWalk.tag(did, pid);

                assertThat(ProcessContextWalk.tagDid(tag)).isEqualTo(did);
                assertThat(ProcessContextWalk.tagPid(tag)).isEqualTo(pid);
                tags.add(tag);
            }
        }
        assertThat(tags).hasSize(16);
    }

    @Test
    void iotlbTag_gscidAndPscidAtTheirLimits_roundTrip() {
        AddressSpace both = new AddressSpace(RiscvPagingMode.SV39X4, 0, 0xffff, false, RiscvPagingMode.SV39, 0,
                0xfffff, false, false);

        long tag = IotlbEntry.tag(both);

        assertThat(IotlbEntry.gv(tag)).isTrue();
        assertThat(IotlbEntry.gscid(tag)).isEqualTo(0xffff);
        assertThat(IotlbEntry.pscv(tag)).isTrue();
        assertThat(IotlbEntry.pscid(tag)).isEqualTo(0xfffff);
        assertThat(IotlbEntry.tag(both.withoutFirstStage())).isNotEqualTo(tag)
                .isNotEqualTo(IotlbEntry.tag(both.withFirstStage(RiscvPagingMode.SV39, 0, 0, false)));
    }
}
