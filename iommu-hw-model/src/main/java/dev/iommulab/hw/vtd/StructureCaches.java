package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.LruCache;
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
 */
final class StructureCaches {

    private record ContextKey(int rid, boolean scalable) {
    }

    private record PasidKey(int rid, int pasid) {
    }

    private final ContextWalk scalableWalk;
    private final LegacyContextWalk legacyWalk;
    private final LruCache<ContextKey, ContextEntry> contexts;
    private final LruCache<PasidKey, PasidEntry> pasids;

    StructureCaches(PhysicalMemory memory, VtdConfig config) {
        this.scalableWalk = new ContextWalk(memory);
        this.legacyWalk = new LegacyContextWalk(memory);
        this.contexts = new LruCache<>(config.contextCacheEntries());
        this.pasids = new LruCache<>(config.pasidCacheEntries());
    }

    Found<ContextEntry> context(long rtaddr, boolean scalable, int rid) {
        ContextKey key = new ContextKey(rid, scalable);
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
        PasidKey key = new PasidKey(rid, pasid);
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
        return contexts.removeIf((k, v) -> (k.rid() & ~ignored) == (sid & ~ignored));
    }

    int invalidatePasidGlobal() {
        return pasids.removeIf((k, v) -> true);
    }

    int invalidatePasidDomain(int did) {
        return pasids.removeIf((k, v) -> v.did() == did);
    }

    int invalidatePasid(int did, int pasid) {
        return pasids.removeIf((k, v) -> v.did() == did && k.pasid() == pasid);
    }
}
