package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.Iotlb;
import java.util.Arrays;

/**
 * Address Translation Cache of a function: least-recently-used, keyed by (PASID, privileged, untranslated
 * range). A translation covers {@code pageSize} bytes (PCIe ATS: a Translation Completion may return a
 * larger, naturally aligned range); a capacity of 0 caches nothing.
 *
 * <p>The entries are an {@link Iotlb} under a tag packed from PASID and privileged, filed under each entry's own
 * size; a lookup probes only the sizes cached at the moment, smallest first, so a hit allocates nothing.
 */
final class Atc {

    static final long PAGE = 4096;

    /** One cached translation of {@code [base, base + size)}. */
    record Entry(int pasid, boolean priv, long base, long size, AtsCompletion translation) {

        long translate(long addr) {
            return translation.translatedAddr() + (addr - base);
        }

        boolean grants(boolean needWrite, boolean needExec) {
            return translation.grants(needWrite, needExec);
        }
    }

    private final int capacity;
    private final Iotlb<Entry> entries;
    /** How many entries of each size 2^k are cached, at index k. */
    private final int[] countBySize = new int[Long.SIZE];
    /** Bit k set while {@code countBySize[k] > 0}: the sizes a lookup probes. */
    private long sizesInUse;

    Atc(int capacity) {
        this.capacity = capacity;
        this.entries = new Iotlb<>(capacity, PAGE);
    }

    /** The size a completion covers: a power of two of at least 4 KiB; anything malformed counts as 4 KiB. */
    static long translationSize(AtsCompletion completion) {
        long size = completion.pageSize();
        return size >= PAGE && Long.bitCount(size) == 1 ? size : PAGE;
    }

    /** The tag of (PASID or -1, privileged): unique for every pair. */
    private static long tag(int pasid, boolean priv) {
        return (long) pasid << 1 | (priv ? 1 : 0);
    }

    Entry lookup(int pasid, boolean priv, long addr) {
        long tag = tag(pasid, priv);
        for (long sizes = sizesInUse; sizes != 0; sizes &= sizes - 1) {
            Entry e = entries.lookup(tag, addr, Long.lowestOneBit(sizes));
            if (e != null) {
                return e;
            }
        }
        return null;
    }

    /** Caches {@code translation} for the range around {@code addr}, replacing what covered it before. */
    void fill(int pasid, boolean priv, long addr, AtsCompletion translation) {
        drop(pasid, priv, addr);
        if (capacity == 0) {
            return;
        }
        long size = translationSize(translation);
        long base = addr & -size;
        Entry evicted = entries.fill(tag(pasid, priv), base, size, new Entry(pasid, priv, base, size, translation));
        counted(size, +1);
        if (evicted != null) {
            counted(evicted.size(), -1);
        }
    }

    /** Drops any entry covering {@code addr} for (pasid, priv). */
    void drop(int pasid, boolean priv, long addr) {
        Entry e;
        while ((e = lookup(pasid, priv, addr)) != null) {
            entries.remove(tag(pasid, priv), e.base(), e.size());
            counted(e.size(), -1);
        }
    }

    /**
     * Drops the entries {@code request} covers (PCIe ATS Invalidate Request); returns how many. See
     * {@link #covers} for the PASID rules.
     */
    int invalidate(AtsInvalidateRequest request, boolean globalInvalidateSupported) {
        return entries.invalidate((tag, e) -> {
            boolean covered = covers(request, globalInvalidateSupported, e.pasid(), e.base(), e.size());
            if (covered) {
                counted(e.size(), -1);
            }
            return covered;
        });
    }

    /**
     * Whether an ATS Invalidate Request covers a translation of {@code [base, base + size)} requested with
     * {@code pasid} (-1 = none). With a PASID prefix it covers that PASID, or every PASID when its Global
     * Invalidate bit is set and the function supports it (otherwise the bit is ignored); the bit is reserved
     * without a PASID prefix. Without a PASID prefix it covers translations requested without a PASID
     * (this model's reading; the PCIe text was not available, reference §7). Any overlap of the ranges counts.
     */
    static boolean covers(AtsInvalidateRequest request, boolean globalInvalidateSupported, int pasid, long base,
                          long size) {
        boolean pasidMatches = request.pasidPresent()
                ? (request.global() && globalInvalidateSupported) || pasid == request.pasid()
                : pasid < 0;
        return pasidMatches && base < request.addr() + request.size() && request.addr() < base + size;
    }

    void invalidateAll() {
        entries.invalidate((tag, e) -> true);
        Arrays.fill(countBySize, 0);
        sizesInUse = 0;
    }

    int size() {
        return entries.size();
    }

    private void counted(long size, int delta) {
        int k = Long.numberOfTrailingZeros(size);
        countBySize[k] += delta;
        sizesInUse = countBySize[k] == 0 ? sizesInUse & ~size : sizesInUse | size;
    }
}
