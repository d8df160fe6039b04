package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The IOTLB shared by the vendor models: tags packed by the vendor, entries filed under one of the configured
 * page sizes and probed in order, invalidation by the vendor's selector over tag and entry.
 */
class IotlbTest {

    private static final long K4 = 4096;
    private static final long M2 = 1L << 21;
    private static final long G1 = 1L << 30;

    @Test
    void lookup_entryFiledUnder2M_foundForEveryAddressOfThePage() {
        Iotlb<String> tlb = new Iotlb<>(8, K4, M2, G1);
        tlb.fill(7, 0x4020_0000L + 0x1234, M2, "huge");

        assertThat(tlb.lookup(7, 0x4020_0000L)).isEqualTo("huge");
        assertThat(tlb.lookup(7, 0x403f_ffffL)).isEqualTo("huge");
        assertThat(tlb.lookup(7, 0x4040_0000L)).isNull();
    }

    @Test
    void lookup_otherTag_misses() {
        Iotlb<String> tlb = new Iotlb<>(8, K4);
        tlb.fill(1, 0x1000, K4, "one");

        assertThat(tlb.lookup(2, 0x1000)).isNull();
        assertThat(tlb.lookup(1, 0x1fff)).isEqualTo("one");
    }

    @Test
    void lookup_only4KConfigured_superpageEntryFiledPer4K() {
        Iotlb<String> tlb = new Iotlb<>(8, K4);
        tlb.fill(1, 0x20_3000, K4, "part of a 2M page");

        assertThat(tlb.lookup(1, 0x20_3abc)).isEqualTo("part of a 2M page");
        assertThat(tlb.lookup(1, 0x20_4000)).as("another 4 KiB of the same superpage").isNull();
    }

    @Test
    void fill_overCapacity_leastRecentlyUsedEvicted() {
        Iotlb<String> tlb = new Iotlb<>(1, K4);
        assertThat(tlb.fill(1, 0x1000, K4, "a")).as("nothing evicted").isNull();
        assertThat(tlb.fill(1, 0x2000, K4, "b")).as("evicted for room").isEqualTo("a");

        assertThat(tlb.lookup(1, 0x1000)).isNull();
        assertThat(tlb.lookup(1, 0x2000)).isEqualTo("b");
        assertThat(tlb.size()).isEqualTo(1);
    }

    /** One size probed: a 2 MiB entry is found under 2 MiB only, whatever sizes the IOTLB probes itself. */
    @Test
    void lookupOfSize_entryOfAnotherSize_missesAndRemoveDropsOnlyThatKey() {
        Iotlb<String> tlb = new Iotlb<>(8, K4);
        tlb.fill(1, 0x20_0000, M2, "2m");
        tlb.fill(1, 0x20_0000, K4, "4k");

        assertThat(tlb.lookup(1, 0x20_1234, M2)).isEqualTo("2m");
        assertThat(tlb.lookup(1, 0x20_1234, K4)).isNull();
        assertThat(tlb.lookup(1, 0x20_0010, K4)).isEqualTo("4k");
        assertThat(tlb.remove(1, 0x20_0abc, M2)).isTrue();
        assertThat(tlb.remove(1, 0x20_0abc, M2)).as("already gone").isFalse();
        assertThat(tlb.lookup(1, 0x20_1234, M2)).isNull();
        assertThat(tlb.lookup(1, 0x20_0010, K4)).isEqualTo("4k");
        assertThat(tlb.size()).isEqualTo(1);
    }

    @Test
    void invalidate_selector_seesTagAndEntryAndCountsDropped() {
        Iotlb<String> tlb = new Iotlb<>(8, K4);
        tlb.fill(1, 0x1000, K4, "keep");
        tlb.fill(2, 0x1000, K4, "drop");
        tlb.fill(2, 0x2000, K4, "keep too");
        List<Long> seen = new ArrayList<>();

        int dropped = tlb.invalidate((tag, e) -> {
            seen.add(tag);
            return tag == 2 && e.equals("drop");
        });

        assertThat(dropped).isEqualTo(1);
        assertThat(seen).containsExactlyInAnyOrder(1L, 2L, 2L);
        assertThat(tlb.lookup(2, 0x1000)).isNull();
        assertThat(tlb.lookup(2, 0x2000)).isEqualTo("keep too");
        assertThat(tlb.size()).isEqualTo(2);
    }

    @Test
    void constructor_pageSizeNotPowerOfTwo_refused() {
        assertThatThrownBy(() -> new Iotlb<>(8, 3 * K4)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Iotlb<>(8)).isInstanceOf(IllegalArgumentException.class);
    }
}
