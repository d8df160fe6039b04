package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The page half of an IOTLB key ({@link Iotlb#filedUnder}): base and size both recoverable, up to the last
 * page of the 64-bit address space (page number 2^52 - 1), and entries of different sizes at one base apart.
 */
class IotlbKeyTest {

    private static final long K4 = 4096;
    private static final long M2 = 1L << 21;
    private static final long G1 = 1L << 30;
    private static final long LAST_PAGE = 0xffff_ffff_ffff_f000L;

    @Test
    void filedUnder_lastPageOfTheAddressSpace_baseAndSizeRoundTrip() {
        for (long size : new long[] {K4, M2, G1}) {
            long key = Iotlb.filedUnder(LAST_PAGE | 0xfff, size);

            assertThat(key & ~0xfffL).as("base for %#x", size).isEqualTo(LAST_PAGE & -size);
            assertThat(1L << (key & 0xfff)).as("size").isEqualTo(size);
        }
        assertThat((Iotlb.filedUnder(LAST_PAGE, K4) & ~0xfffL) >>> 12).isEqualTo((1L << 52) - 1);
    }

    @Test
    void filedUnder_sameBaseDifferentSizes_differentKeys() {
        assertThat(Iotlb.filedUnder(0, K4)).isNotEqualTo(Iotlb.filedUnder(0, M2)).isNotEqualTo(Iotlb.filedUnder(0, G1));
    }

    @Test
    void fill_sameBaseUnderTwoSizes_twoEntriesAndSmallerProbedFirst() {
        Iotlb<String> tlb = new Iotlb<>(8, K4, M2);
        tlb.fill(1, 0, M2, "2M");
        tlb.fill(1, 0, K4, "4K");

        assertThat(tlb.size()).isEqualTo(2);
        assertThat(tlb.lookup(1, 0x10)).isEqualTo("4K");
        assertThat(tlb.lookup(1, 0x1010)).isEqualTo("2M");
    }

    @Test
    void lookup_lastPageAndExtremeTags_found() {
        Iotlb<String> tlb = new Iotlb<>(8, K4);
        tlb.fill(-1, LAST_PAGE, K4, "last page, tag -1");
        tlb.fill(Long.MIN_VALUE, LAST_PAGE, K4, "last page, tag min");

        assertThat(tlb.lookup(-1, LAST_PAGE + 0xabc)).isEqualTo("last page, tag -1");
        assertThat(tlb.lookup(Long.MIN_VALUE, LAST_PAGE)).isEqualTo("last page, tag min");
        assertThat(tlb.lookup(Long.MAX_VALUE, LAST_PAGE)).isNull();
        assertThat(tlb.lookup(-1, LAST_PAGE - K4)).isNull();
    }
}
