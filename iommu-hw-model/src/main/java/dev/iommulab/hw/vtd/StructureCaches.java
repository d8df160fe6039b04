package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.LongLruCache;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The context cache and the PASID cache in front of the walks of {@link ContextWalk} and
 * {@link LegacyContextWalk} (VT-d spec §6.2.1-§6.2.3). Only present entries are cached (CAP.CM = 0), so
 * software that makes an entry present needs no invalidation; one that changes or clears a present
 * entry keeps seeing the old one until it submits the matching descriptor.
 *
 * <p>Context-cache invalidation (type 0x1): global; domain-selective, legacy entries with the DID and
 * every scalable entry (a scalable context entry carries no DID); device-selective, the SID with the
 * function mask FM (00b none, 01b bit 2, 10b bits 2:1, 11b bits 2:0 ignored). PASID-cache invalidation
 * (type 0x7): all, every PASID of a DID, or one PASID of a DID — matched against the DID of the cached
 * PASID entry.
 *
 * <p>Both caches are tagged as the model looks them up, packed into a {@code long}: the context cache by
 * requester ID and mode ({@link #contextTag}), the PASID cache by requester ID and PASID ({@link #pasidTag}).
 */
final class StructureCaches {

    private final ContextWalk scalableWalk;
    private final LegacyContextWalk legacyWalk;
    private final LongLruCache<ContextEntry> contexts;
    private final LongLruCache<PasidEntry> pasids;

    StructureCaches(PhysicalMemory memory, VtdConfig config) {
        this.scalableWalk = new ContextWalk(memory);
        this.legacyWalk = new LegacyContextWalk(memory);
        this.contexts = new LongLruCache<>(config.contextCacheEntries());
        this.pasids = new LongLruCache<>(config.pasidCacheEntries());
    }

    /** The context-cache tag: the requester ID above the mode bit (1 scalable). */
    static long contextTag(int rid, boolean scalable) {
        return (long) rid << 1 | (scalable ? 1 : 0);
    }

    static int contextTagRid(long tag) {
        return (int) (tag >> 1);
    }

    /** The PASID-cache tag: the requester ID in the upper 32 bits, the PASID in the lower. */
    static long pasidTag(int rid, int pasid) {
        return (long) rid << 32 | pasid & 0xffff_ffffL;
    }

    static int pasidTagPasid(long tag) {
        return (int) tag;
    }

    Found<ContextEntry> context(long rtaddr, boolean scalable, int rid) {
        long key = contextTag(rid, scalable);
        ContextEntry cached = contexts.get(key);
        if (cached != null) {
            return Found.of(cached);
        }
        Found<ContextEntry> found = scalable ? scalableWalk.context(rtaddr, rid) : legacyWalk.context(rtaddr, rid);
        if (found.ok()) {
            contexts.put(key, found.value());
        }
        return found;
    }

    Found<PasidEntry> pasidEntry(int rid, ContextEntry ctx, int pasid) {
        long key = pasidTag(rid, pasid);
        PasidEntry cached = pasids.get(key);
        if (cached != null) {
            return Found.of(cached);
        }
        Found<PasidEntry> found = scalableWalk.pasidEntry(ctx, pasid);
        if (found.ok()) {
            pasids.put(key, found.value());
        }
        return found;
    }

    LongLruCache<ContextEntry> contextCache() {
        return contexts;
    }

    LongLruCache<PasidEntry> pasidCache() {
        return pasids;
    }

    int contextEntries() {
        return contexts.size();
    }

    int pasidEntries() {
        return pasids.size();
    }

    int invalidateContextGlobal() {
        return contexts.removeIf((k, v) -> true);
    }

    int invalidateContextDomain(int did) {
        return contexts.removeIf((k, v) -> v.scalable() || v.did() == did);
    }

    int invalidateContextDevice(int sid, int functionMask) {
        int ignored = (0x7 << (3 - functionMask)) & 0x7;
        return contexts.removeIf((k, v) -> (contextTagRid(k) & ~ignored) == (sid & ~ignored));
    }

    int invalidatePasidGlobal() {
        return pasids.removeIf((k, v) -> true);
    }

    int invalidatePasidDomain(int did) {
        return pasids.removeIf((k, v) -> v.did() == did);
    }

    int invalidatePasid(int did, int pasid) {
        return pasids.removeIf((k, v) -> v.did() == did && pasidTagPasid(k) == pasid);
    }
}
