package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;
import org.junit.jupiter.api.Test;

/** The Address Translation Cache on its own: LRU capacity, translation sizes, privilege and replacement. */
class AtcTest {

    private static AtsCompletion translation(long pa, long size) {
        return new AtsCompletion(CompletionStatus.SUCCESS, pa, size, true, true, false, false);
    }

    @Test
    void fill_beyondCapacity_evictsLeastRecentlyUsed() {
        Atc atc = new Atc(2);
        atc.fill(1, false, 0x1000, translation(0xa000, 4096));
        atc.fill(1, false, 0x2000, translation(0xb000, 4096));
        atc.lookup(1, false, 0x1000);

        atc.fill(1, false, 0x3000, translation(0xc000, 4096));

        assertThat(atc.size()).isEqualTo(2);
        assertThat(atc.lookup(1, false, 0x2000)).isNull();
        assertThat(atc.lookup(1, false, 0x1000)).isNotNull();
    }

    @Test
    void lookup_insideLargeTranslation_translatesTheOffset() {
        Atc atc = new Atc(4);
        atc.fill(-1, false, 0x20_3000, translation(0x80_0000, 2L << 20));

        Atc.Entry e = atc.lookup(-1, false, 0x2f_f000);

        assertThat(e).isNotNull();
        assertThat(e.base()).isEqualTo(0x20_0000);
        assertThat(e.translate(0x2f_f000)).isEqualTo(0x8f_f000);
    }

    @Test
    void fill_smallerTranslationOverLargeOne_replacesIt() {
        Atc atc = new Atc(4);
        atc.fill(2, false, 0x20_0000, translation(0x80_0000, 2L << 20));

        atc.fill(2, false, 0x20_1000, translation(0x5000, 4096));

        assertThat(atc.size()).isEqualTo(1);
        assertThat(atc.lookup(2, false, 0x20_1000).translate(0x20_1000)).isEqualTo(0x5000);
        assertThat(atc.lookup(2, false, 0x20_2000)).isNull();
    }

    @Test
    void lookup_otherPrivilegeOrPasid_misses() {
        Atc atc = new Atc(4);
        atc.fill(2, true, 0x1000, translation(0x5000, 4096));

        assertThat(atc.lookup(2, false, 0x1000)).isNull();
        assertThat(atc.lookup(3, true, 0x1000)).isNull();
        assertThat(atc.lookup(2, true, 0x1000)).isNotNull();
    }

    @Test
    void fill_malformedPageSize_countsAsOnePage() {
        Atc atc = new Atc(4);
        atc.fill(-1, false, 0x7000, translation(0x5000, 12345));

        assertThat(atc.lookup(-1, false, 0x7000).size()).isEqualTo(4096);
        assertThat(atc.lookup(-1, false, 0x8000)).isNull();
    }

    @Test
    void fill_zeroCapacity_cachesNothing() {
        Atc atc = new Atc(0);
        atc.fill(-1, false, 0x7000, translation(0x5000, 4096));

        assertThat(atc.size()).isZero();
        assertThat(atc.lookup(-1, false, 0x7000)).isNull();
    }
}
