package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.Iotlb;
import dev.iommulab.hw.iommu.RecentTranslations;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.function.Supplier;

/**
 * DMA remapping of one request (VT-d spec chapter 3 and the fault-condition tables of §7.1.3): picks
 * the mode from RTADDR.TTM, resolves the context (and, in scalable mode, the PASID entry) through the
 * structure caches, looks the page up in the IOTLB and walks the tables on a miss.
 *
 * <p>The IOTLB holds translations of successful accesses, tagged with domain ID and PASID (-1 in legacy
 * mode) and filed under the page they map (4 KiB, 2 MiB or 1 GiB), least recently used replaced first (VT-d
 * spec §6.2.4). Non-present entries are never cached (CAP.CM = 0). A cached translation is used only when it
 * grants the request everything it asks for; otherwise the tables are walked again, so a stale entry can let
 * an access through but never fault one. Raises each fault at
 * the step where the spec raises it; rights against the request are checked by {@link AccessRights}.
 *
 * <p>Translated requests (AT = 10b) need only the context entry's DTE (legacy: TT = 01b) and go to the
 * address they carry; the PASID entry is not consulted for them [UNVERIFIED: the spec's handling of
 * translated requests with PASID was not read]. A request without PASID in scalable mode is translated
 * through RID_PASID with the privilege of RID_PRIV and no execute.
 *
 * <p>A request answered from the caches alone (context, PASID and IOTLB hits) is remembered in
 * {@link RecentTranslations}, which answers the same request again while the caches are unchanged, without the
 * lookups (docs/performance.md, "Issue 14"); nothing a request can observe differs.
 */
final class RemappingEngine {

    /** The kind of request: AT = 00b, ATS Translation Request, AT = 10b. */
    enum Kind { UNTRANSLATED, TRANSLATION_REQUEST, TRANSLATED }

    /** A request as the remapping hardware sees it. */
    record Request(int rid, boolean pasidPresent, int pasid, long addr, boolean write, boolean exec, boolean priv,
                   Kind kind) {
    }

    /** Uses a translation: A/D updates and IOTLB fill. Returns the fault those raise, or null. */
    @FunctionalInterface
    interface Commit {
        VtdFaultReason use(boolean write);
    }

    /**
     * The translation of a request or the fault that stopped it.
     *
     * @param effective  the request with the privilege and execute attributes that apply (a request
     *                   without PASID takes RID_PRIV from the context entry and never executes)
     * @param pasidEntry the PASID entry used (scalable mode), or null
     */
    record Result(Translation translation, VtdFaultReason fault, boolean fpd, boolean scalable, Request effective,
                  PasidEntry pasidEntry, Commit commit) {

        static Result fault(VtdFaultReason reason, boolean fpd, boolean scalable, Request request) {
            return new Result(null, reason, fpd, scalable, request, null, w -> null);
        }

        boolean ok() {
            return fault == null;
        }
    }

    /** Context entry bit 84 (qword 1 bit 20): privilege of requests without PASID. */
    private static final long CTX_RID_PRIV = 1L << 20;
    /** Requests remembered by {@link #recent}. */
    private static final int RECENT_TRANSLATIONS = 64;

    private final VtdUnit unit;
    private final StructureCaches caches;
    private final Iotlb<Translation> iotlb;
    private final FirstStageTranslation firstStage;
    private final SecondStageTranslation secondStage;
    private final NestedTranslation nested;
    private RecentTranslations<Request, Result> recent;
    /** Set when the request being remapped was answered by an IOTLB hit. */
    private boolean iotlbHit;

    RemappingEngine(VtdUnit unit, PhysicalMemory memory, VtdConfig config) {
        this.unit = unit;
        this.caches = new StructureCaches(memory, config);
        this.iotlb = new Iotlb<>(config.iotlbEntries(), Translation.IOTLB_PAGE_SIZES);
        this.firstStage = new FirstStageTranslation(memory, config.pageWalkCoherent());
        this.secondStage = new SecondStageTranslation(memory, config.pageWalkCoherent());
        this.nested = new NestedTranslation(memory, secondStage, config.pageWalkCoherent());
        this.recent = new RecentTranslations<>(RECENT_TRANSLATIONS, caches.contextCache(), caches.pasidCache(), iotlb);
    }

    /** Turns {@link RecentTranslations} off, for the tests that compare a unit with and without it. */
    void forgetRecentTranslations() {
        recent = new RecentTranslations<>(0, caches.contextCache(), caches.pasidCache(), iotlb);
    }

    StructureCaches caches() {
        return caches;
    }

    Iotlb<Translation> iotlb() {
        return iotlb;
    }

    /** RTADDR.TTM as the hardware honours it: 0 legacy, 1 scalable, -1 reserved (fault 0x30). */
    int mode() {
        int ttm = (int) ((unit.rootTable() & VtdRegs.RTADDR_TTM_MASK) >>> 10);
        if (ttm == 0 || ttm == 1 && unit.config().scalableModeSupported()) {
            return ttm;
        }
        return -1;
    }

    Result remap(Request r) {
        long root = unit.rootTable();
        long epoch = recent.epoch();
        int hash = r.rid() * 31 + r.pasid() ^ (int) (r.addr() >>> 12);
        Result recalled = recent.lookup(hash, r, root, epoch);
        if (recalled != null) {
            return recalled;
        }
        iotlbHit = false;
        Result res = switch (mode()) {
            case 0 -> legacy(r);
            case 1 -> scalable(r);
            default -> Result.fault(VtdFaultReason.SM_INVALID_ROOT_TABLE_ADDRESS, false, true, r);
        };
        if (iotlbHit) {
            recent.record(hash, r, root, epoch, res.scalable(), res);
        }
        return res;
    }

    private Result legacy(Request r) {
        if (r.pasidPresent()) {
            return Result.fault(VtdFaultReason.TTM0_REQUEST_WITH_PASID, false, false, r);
        }
        Request eff = new Request(r.rid(), false, 0, r.addr(), r.write(), false, false, r.kind());
        Found<ContextEntry> c = caches.context(unit.rootTable(), false, r.rid());
        if (!c.ok()) {
            return Result.fault(c.fault(), c.fpd(), false, eff);
        }
        ContextEntry ctx = c.value();
        if (r.kind() != Kind.UNTRANSLATED && ctx.tt() != VtdEntries.TT_DEVICE_TLB) {
            return Result.fault(VtdFaultReason.TT_BLOCKS, ctx.fpd(), false, eff);
        }
        if (r.kind() == Kind.TRANSLATED) {
            return direct(Translation.passThrough(Translation.Kind.LEGACY_PASS_THROUGH, r.addr()), ctx.fpd(), false, eff);
        }
        Supplier<Found<Walked>> walk = ctx.tt() == VtdEntries.TT_PASS_THROUGH
                ? () -> Found.of(Walked.withoutUpdates(
                        Translation.passThrough(Translation.Kind.LEGACY_PASS_THROUGH, r.addr())))
                : () -> secondStage.walkLegacy(ctx, r.addr(), r.write());
        return cachedOrWalk(ctx.did(), -1, eff, ctx.fpd(), false, null, walk);
    }

    private Result scalable(Request r) {
        Found<ContextEntry> c = caches.context(unit.rootTable(), true, r.rid());
        if (!c.ok()) {
            return Result.fault(c.fault(), c.fpd(), true, r);
        }
        ContextEntry ctx = c.value();
        Request eff = r.pasidPresent() ? r : new Request(r.rid(), false, ctx.ridPasid(), r.addr(), r.write(), false,
                (ctx.hi() & CTX_RID_PRIV) != 0, r.kind());
        if (r.kind() != Kind.UNTRANSLATED && !ctx.dte()) {
            return Result.fault(VtdFaultReason.SM_CONTEXT_DTE_CLEAR, ctx.fpd(), true, eff);
        }
        if (r.kind() == Kind.TRANSLATED) {
            return direct(Translation.passThrough(Translation.Kind.PASS_THROUGH, r.addr()), ctx.fpd(), true, eff);
        }
        if (r.pasidPresent() && !ctx.pasidEnabled()) {
            return Result.fault(VtdFaultReason.SM_CONTEXT_PASIDE_CLEAR, ctx.fpd(), true, eff);
        }
        if (eff.pasid() >= ctx.pasidLimit()) {
            return Result.fault(r.pasidPresent() ? VtdFaultReason.SM_PASID_TOO_LARGE
                    : VtdFaultReason.SM_RID_PASID_ERROR, ctx.fpd(), true, eff);
        }
        Found<PasidEntry> p = caches.pasidEntry(r.rid(), ctx, eff.pasid());
        if (!p.ok()) {
            return Result.fault(p.fault(), p.fpd(), true, eff);
        }
        PasidEntry pe = p.value();
        if (r.kind() == Kind.UNTRANSLATED && eff.exec() && !pe.ere()) {
            return Result.fault(VtdFaultReason.SM_PASID_ERE_CLEAR, pe.fpd(), true, eff);
        }
        if (r.kind() == Kind.UNTRANSLATED && eff.priv() && !pe.sre()) {
            return Result.fault(VtdFaultReason.SM_PASID_SRE_CLEAR, pe.fpd(), true, eff);
        }
        return cachedOrWalk(pe.did(), eff.pasid(), eff, pe.fpd(), true, pe, () -> switch (pe.pgtt()) {
            case VtdEntries.PGTT_FIRST_STAGE -> firstStage.walk(pe, r.addr());
            case VtdEntries.PGTT_SECOND_STAGE -> secondStage.walk(pe, r.addr());
            case VtdEntries.PGTT_NESTED -> nested.walk(pe, r.addr());
            default -> Found.of(Walked.withoutUpdates(Translation.passThrough(Translation.Kind.PASS_THROUGH,
                    r.addr())));
        });
    }

    private static Result direct(Translation t, boolean fpd, boolean scalable, Request eff) {
        return new Result(t, null, fpd, scalable, eff, null, w -> null);
    }

    private Result cachedOrWalk(int did, int pasidTag, Request eff, boolean fpd, boolean scalable, PasidEntry pe,
                                Supplier<Found<Walked>> walk) {
        long tag = Translation.iotlbTag(did, pasidTag);
        Translation hit = iotlb.lookup(tag, eff.addr());
        if (hit != null && hit.satisfies(eff.write(), eff.exec(), eff.priv())) {
            iotlbHit = true;
            return new Result(hit, null, fpd, scalable, eff, pe, w -> null);
        }
        Found<Walked> w = walk.get();
        if (!w.ok()) {
            return Result.fault(w.fault(), w.fpd(), scalable, eff);
        }
        Walked walked = w.value();
        Translation t = walked.translation();
        return new Result(t, null, fpd, scalable, eff, pe, write -> {
            VtdFaultReason f = walked.adUpdate().apply(write);
            if (f == null) {
                iotlb.fill(tag, t.inBase(), t.size(), write ? t.dirtied() : t);
            }
            return f;
        });
    }
}
