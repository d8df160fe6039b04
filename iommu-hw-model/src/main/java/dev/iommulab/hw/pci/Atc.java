package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Address Translation Cache of a function: least-recently-used, keyed by (PASID, privileged, untranslated
 * range). A translation covers {@code pageSize} bytes (PCIe ATS: a Translation Completion may return a
 * larger, naturally aligned range); a capacity of 0 caches nothing.
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

    /**
     * An entry's tag. Its hash mixes the page number in, not the raw address: a record's hash of page-aligned
     * addresses leaves 12 low bits zero, and consecutive pages then share a bucket of the map.
     */
    private record Key(int pasid, boolean priv, long base, long size) {
        @Override
        public int hashCode() {
            long h = (base >>> 12) * 0x9e3779b97f4a7c15L + Long.numberOfTrailingZeros(size) * 31L + pasid * 2L
                    + (priv ? 1 : 0);
            return (int) (h ^ (h >>> 32));
        }
    }

    private final int capacity;
    private final LinkedHashMap<Key, Entry> entries;
    /** How many entries of each translation size are cached (lookups probe each size in use). */
    private final TreeMap<Long, Integer> sizes = new TreeMap<>();

    Atc(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Atc.Entry> eldest) {
                if (size() <= Atc.this.capacity) {
                    return false;
                }
                forget(eldest.getKey().size());
                return true;
            }
        };
    }

    /** The size a completion covers: a power of two of at least 4 KiB; anything malformed counts as 4 KiB. */
    static long translationSize(AtsCompletion completion) {
        long size = completion.pageSize();
        return size >= PAGE && Long.bitCount(size) == 1 ? size : PAGE;
    }

    Entry lookup(int pasid, boolean priv, long addr) {
        for (long size : sizes.keySet()) {
            Entry e = entries.get(new Key(pasid, priv, addr & -size, size));
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
        entries.put(new Key(pasid, priv, base, size), new Entry(pasid, priv, base, size, translation));
        sizes.merge(size, 1, Integer::sum);
    }

    /** Drops any entry covering {@code addr} for (pasid, priv). */
    void drop(int pasid, boolean priv, long addr) {
        Entry e;
        while ((e = lookup(pasid, priv, addr)) != null) {
            entries.remove(new Key(e.pasid(), e.priv(), e.base(), e.size()));
            forget(e.size());
        }
    }

    /**
     * Drops the entries {@code request} covers (PCIe ATS Invalidate Request); returns how many. See
     * {@link #covers} for the PASID rules.
     */
    int invalidate(AtsInvalidateRequest request, boolean globalInvalidateSupported) {
        int dropped = 0;
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (covers(request, globalInvalidateSupported, e.pasid(), e.base(), e.size())) {
                it.remove();
                forget(e.size());
                dropped++;
            }
        }
        return dropped;
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
        entries.clear();
        sizes.clear();
    }

    int size() {
        return entries.size();
    }

    private void forget(long size) {
        sizes.computeIfPresent(size, (k, n) -> n == 1 ? null : n - 1);
    }
}
