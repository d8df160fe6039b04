package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/** Address Translation Cache of a function: least-recently-used, keyed by (PASID, page). */
final class Atc {

    private record Key(int pasid, long page) {
    }

    private final int capacity;
    private final LinkedHashMap<Key, AtsCompletion> entries;

    Atc(int capacity) {
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, AtsCompletion> eldest) {
                return size() > Atc.this.capacity;
            }
        };
    }

    AtsCompletion lookup(int pasid, long page) {
        return entries.get(new Key(pasid, page));
    }

    void fill(int pasid, long page, AtsCompletion translation) {
        entries.put(new Key(pasid, page), translation);
    }

    /** Drops the entries {@code request} covers; returns how many. */
    int invalidate(AtsInvalidateRequest request) {
        int before = entries.size();
        entries.keySet().removeIf(k -> request.covers(k.pasid(), k.page()));
        return before - entries.size();
    }

    void invalidateAll() {
        entries.clear();
    }

    int size() {
        return entries.size();
    }
}
