package dev.iommulab.hw.vtd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The tags the unit's caches are keyed by, packed into a {@code long}: each field comes back as it went in at
 * the limits of its width (16-bit RID and DID, 20-bit PASID, PASID -1 for legacy IOTLB entries), and different
 * fields never give the same tag.
 */
class CacheTagsTest {

    private static final int[] RIDS = {0, 1, 0xfffe, 0xffff};
    private static final int[] PASIDS = {0, 1, 0xffffe, 0xfffff};

    @Test
    void iotlbTag_didAndPasidAtTheirLimits_roundTrip() {
        for (int did : RIDS) {
            for (int pasid : new int[] {-1, 0, 0xfffff}) {
                long tag = Translation.iotlbTag(did, pasid);

                assertThat(Translation.tagDid(tag)).isEqualTo(did);
                assertThat(Translation.tagPasid(tag)).isEqualTo(pasid);
            }
        }
    }

    @Test
    void pasidTag_ridAndPasidAtTheirLimits_roundTripAndDistinct() {
        Set<Long> tags = new HashSet<>();
        for (int rid : RIDS) {
            for (int pasid : PASIDS) {
                long tag = StructureCaches.pasidTag(rid, pasid);

                assertThat(StructureCaches.pasidTagPasid(tag)).isEqualTo(pasid);
                tags.add(tag);
            }
        }
        assertThat(tags).hasSize(RIDS.length * PASIDS.length);
    }

    @Test
    void contextTag_ridAtItsLimitAndMode_roundTripAndDistinct() {
        Set<Long> tags = new HashSet<>();
        for (int rid : RIDS) {
            for (boolean scalable : new boolean[] {false, true}) {
                long tag = StructureCaches.contextTag(rid, scalable);

                assertThat(StructureCaches.contextTagRid(tag)).isEqualTo(rid);
                tags.add(tag);
            }
        }
        assertThat(tags).hasSize(RIDS.length * 2);
    }
}
