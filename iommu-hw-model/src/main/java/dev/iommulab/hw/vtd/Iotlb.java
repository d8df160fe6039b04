package dev.iommulab.hw.vtd;

/**
 * The IOTLB: translations of successful accesses, tagged with domain ID and PASID (-1 in legacy mode)
 * and keyed by the page they map (4 KiB, 2 MiB or 1 GiB), least recently used replaced first (VT-d
 * spec §6.2.4). Non-present entries are never cached (CAP.CM = 0). A cached translation is used only
 * when it grants the request everything it asks for; otherwise the tables are walked again, so a stale
 * entry can let an access through but never fault one.
 *
 * <p>Invalidation (VT-d spec §6.5.2.3, §6.5.2.4). IOTLB descriptors (type 0x2): global; domain-selective,
 * every entry of the DID; page-selective, second-stage, pass-through and legacy entries of the DID
 * overlapping the range, and all nested entries of the DID (their GPA is not kept, so any of them may
 * use the range). PASID-based IOTLB descriptors (type 0x6): first-stage and nested entries of (DID,
 * PASID), all or those overlapping the range. Removing more than asked is what the spec allows.
 */
final class Iotlb {

    private static final long[] PAGE_SIZES = {4096, 1L << 21, 1L << 30};

    private record Key(int did, int pasid, long base, long size) {
    }

    private final LruCache<Key, Translation> entries;

    Iotlb(int capacity) {
        this.entries = new LruCache<>(capacity);
    }

    /** The cached translation covering {@code addr} for (did, pasid), or null. */
    Translation lookup(int did, int pasid, long addr) {
        for (long size : PAGE_SIZES) {
            Translation t = entries.get(new Key(did, pasid, addr & -size, size));
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    void fill(int did, int pasid, Translation t) {
        entries.put(new Key(did, pasid, t.inBase(), t.size()), t);
    }

    int size() {
        return entries.size();
    }

    int invalidateAll() {
        return entries.removeIf((k, t) -> true);
    }

    int invalidateDomain(int did) {
        return entries.removeIf((k, t) -> k.did() == did);
    }

    /** Page-selective-within-domain: {@code length} bytes from {@code addr}. */
    int invalidateDomainRange(int did, long addr, long length) {
        return entries.removeIf((k, t) -> k.did() == did
                && (t.kind() == Translation.Kind.NESTED || !t.kind().usesFirstStage() && t.overlaps(addr, length)));
    }

    int invalidatePasid(int did, int pasid) {
        return entries.removeIf((k, t) -> k.did() == did && k.pasid() == pasid && t.kind().usesFirstStage());
    }

    int invalidatePasidRange(int did, int pasid, long addr, long length) {
        return entries.removeIf((k, t) -> k.did() == did && k.pasid() == pasid && t.kind().usesFirstStage()
                && t.overlaps(addr, length));
    }
}
