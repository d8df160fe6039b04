package dev.iommulab.core.dma;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The IOVA allocator of drivers/iommu/iova.c: alloc_iova() (__alloc_and_insert_iova_range()), alloc_iova_fast()
 * with the range caches, free_iova(), free_iova_fast() and reserve_iova(), on 4 KiB granules.
 */
class IovaDomainTest {

    private static final long PFN_4G = 0x10_0000L;
    private final IovaDomain iovad = new IovaDomain(4096, 1);

    /** alloc_iova(): the first ranges come from the top of the space below the limit, downwards. */
    @Test
    void allocIova_successiveRanges_topDownBelowLimit() {
        assertThat(iovad.allocIova(1, PFN_4G - 1, true).pfnLo).isEqualTo(0xfffffL);
        assertThat(iovad.allocIova(1, PFN_4G - 1, true).pfnLo).isEqualTo(0xffffeL);
        assertThat(iovad.allocIova(2, PFN_4G - 1, true).pfnLo).isEqualTo(0xffffcL);
    }

    /**
     * alloc_iova_fast(): 3 pfns are rounded up to 4 and aligned to 4; a later 3-pfn range below a 1-pfn one
     * skips down to the next multiple of 4.
     */
    @Test
    void allocIovaFast_sizeNotPowerOfTwo_roundedAndSizeAligned() {
        assertThat(iovad.allocIovaFast(3, PFN_4G - 1, true)).isEqualTo(0xffffcL);
        assertThat(iovad.allocIovaFast(1, PFN_4G - 1, true)).isEqualTo(0xffffbL);
        assertThat(iovad.allocIovaFast(3, PFN_4G - 1, true)).isEqualTo(0xffff4L);
        assertThat(iovad.findIova(0xffff4L).size()).isEqualTo(4);
    }

    /** alloc_iova() with size_aligned: 40 pfns (beyond the range caches, not rounded) are aligned to 64. */
    @Test
    void allocIovaFast_largeRange_notRoundedButAlignedToNextPowerOfTwo() {
        long pfn = iovad.allocIovaFast(40, PFN_4G - 1, true);

        assertThat(pfn % 64).isZero();
        assertThat(pfn).isEqualTo((PFN_4G - 40) & ~63L);
        assertThat(iovad.findIova(pfn).size()).isEqualTo(40);
    }

    /** Space 1..7 (pfn 0 is never handed out): 4 + 2 + 1 fill it, the next allocation fails with 0. */
    @Test
    void allocIovaFast_spaceExhausted_returnsZeroAndChangesNothing() {
        assertThat(iovad.allocIovaFast(4, 7, true)).isEqualTo(4);
        assertThat(iovad.allocIovaFast(2, 7, true)).isEqualTo(2);
        assertThat(iovad.allocIovaFast(1, 7, true)).isEqualTo(1);
        String before = iovad.ranges().toString();

        assertThat(iovad.allocIovaFast(1, 7, true)).isZero();

        assertThat(iovad.ranges()).hasToString(before);
    }

    /** free_iova_fast() parks a small range in its range cache; the next allocation of its class gets it back. */
    @Test
    void freeIovaFast_smallRange_reusedLastInFirstOut() {
        long a = iovad.allocIovaFast(1, PFN_4G - 1, true);
        long b = iovad.allocIovaFast(1, PFN_4G - 1, true);
        iovad.freeIovaFast(a, 1);
        iovad.freeIovaFast(b, 1);

        assertThat(iovad.cachedRanges()).isEqualTo(2);
        assertThat(iovad.findIova(a)).as("a cached range stays in the tree").isNotNull();
        assertThat(iovad.allocIovaFast(1, PFN_4G - 1, true)).isEqualTo(b);
        assertThat(iovad.allocIovaFast(1, PFN_4G - 1, true)).isEqualTo(a);
    }

    /** A range beyond the caches goes back to the tree; __cached_rbnode_delete_update() lets it be reused. */
    @Test
    void freeIovaFast_largeRange_backToTreeAndReused() {
        long a = iovad.allocIovaFast(64, PFN_4G - 1, true);
        iovad.allocIovaFast(64, PFN_4G - 1, true);
        iovad.freeIovaFast(a, 64);

        assertThat(iovad.findIova(a)).isNull();
        assertThat(iovad.allocIovaFast(64, PFN_4G - 1, true)).isEqualTo(a);
    }

    /**
     * alloc_iova_fast() with flush_rcache: the tree is full but holds a cached range; the cache is freed into the
     * tree (free_cpu_cached_iovas()) and the allocation retried; without flush_rcache it fails.
     */
    @Test
    void allocIovaFast_treeFullOfCachedRanges_drainsCacheAndRetries() {
        iovad.allocIovaFast(4, 7, true);
        long two = iovad.allocIovaFast(2, 7, true);
        iovad.allocIovaFast(1, 7, true);
        iovad.freeIovaFast(two, 2);

        assertThat(iovad.allocIovaFast(1, 7, false)).isZero();
        assertThat(iovad.allocIovaFast(1, 7, true)).isEqualTo(3);
        assertThat(iovad.cachedRanges()).isZero();
    }

    /** reserve_iova(): an allocation just below the top of the MSI window 0xfee00000-0xfeefffff lands below it. */
    @Test
    void reserveIova_msiWindow_allocationBelowItsTopLandsUnderIt() {
        iovad.reserveIova(0xfee00L, 0xfeeffL);

        assertThat(iovad.allocIova(1, 0xfeeffL, true).pfnLo).isEqualTo(0xfedffL);
    }

    /** A walk coming down from 4 GiB in 1 MiB steps fills the space above the window, then jumps over it. */
    @Test
    void reserveIova_msiWindow_walkFromAboveJumpsOverIt() {
        iovad.reserveIova(0xfee00L, 0xfeeffL);
        long last = 0;
        for (int i = 0; i < 17; i++) {
            last = iovad.allocIova(0x100, PFN_4G - 1, true).pfnLo;
        }

        assertThat(last).isEqualTo(0xfef00L);
        assertThat(iovad.allocIova(0x100, PFN_4G - 1, true).pfnLo).isEqualTo(0xfed00L);
    }

    /** reserve_iova() over a range partly reserved already widens nothing twice: the rest is one new range. */
    @Test
    void reserveIova_overlapping_coversUnionOnce() {
        iovad.reserveIova(0x100, 0x1ff);
        iovad.reserveIova(0x180, 0x2ff);

        assertThat(iovad.ranges()).extracting(i -> i.pfnLo, i -> i.pfnHi)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0x100L, 0x1ffL),
                        org.assertj.core.groups.Tuple.tuple(0x200L, 0x2ffL));
    }

    /** A failed 32-bit walk remembers its size (max32_alloc_size); freeing below 4 GiB forgets it. */
    @Test
    void allocIova_after32BitFailure_failsFastUntilAFreeBelow4G() {
        long a = iovad.allocIovaFast(4, 7, true);
        assertThat(iovad.allocIova(8, 7, true)).isNull();
        assertThat(iovad.allocIova(8, PFN_4G - 1, true)).as("max32_alloc_size = 8").isNull();

        iovad.freeIova(a);

        assertThat(iovad.allocIova(8, PFN_4G - 1, true)).isNotNull();
    }
}
