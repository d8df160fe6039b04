package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.AtsInvalidationTracker;
import dev.iommulab.hw.iommu.Iotlb;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;

/**
 * Checks and carries out one invalidation descriptor other than a wait (VT-d spec §6.5.2): cache
 * invalidations on {@link StructureCaches} and the IOTLB, device-TLB invalidations through
 * the unit's {@link AtsInvalidationTracker}, page group responses to the function. A descriptor with an unknown
 * type, a reserved granularity or a reserved bit set is refused (the queue then reports FSTS.IQE).
 *
 * <p>IOTLB invalidation (VT-d spec §6.5.2.3, §6.5.2.4). IOTLB descriptors (type 0x2): global; domain-selective,
 * every entry of the DID; page-selective, second-stage, pass-through and legacy entries of the DID overlapping
 * the range, and all nested entries of the DID (their GPA is not kept, so any of them may use the range).
 * PASID-based IOTLB descriptors (type 0x6): first-stage and nested entries of (DID, PASID), all or those
 * overlapping the range. Removing more than asked is what the spec allows.
 */
final class QiExecutor {

    /** What became of a descriptor. */
    enum Outcome { DONE, INVALID_TYPE, RESERVED_FIELD, NO_ITAG }

    /** Largest IOTLB address mask (CAP.MAMV). */
    static final int MAMV = 9;

    private final VtdUnit unit;
    private final StructureCaches caches;
    private final Iotlb<Translation> iotlb;
    private final AtsInvalidationTracker deviceTlb;

    QiExecutor(VtdUnit unit, StructureCaches caches, Iotlb<Translation> iotlb,
               AtsInvalidationTracker deviceTlb) {
        this.unit = unit;
        this.caches = caches;
        this.iotlb = iotlb;
        this.deviceTlb = deviceTlb;
    }

    /**
     * Reserved bits of qword 0 and qword 1 per descriptor type 0x1-0x9, from the layouts of VT-d spec
     * §6.5.2 (as QEMU's {@code VTD_INV_DESC_*_RSVD*} and VirtualBox's {@code VTD_BF_*_INV_DSC_RSVD_*}).
     */
    private static final long[][] RESERVED = {
        null,
        {0xfffc_0000_0000_f1c0L, 0},                        // context-cache
        {0xffff_ffff_0000_f100L, 0xf80L},                   // IOTLB
        {0x000f_0000_ffe0_01f0L, 0xffeL},                   // device-TLB
        {0, 0},                                             // interrupt entry cache
        {0xffff_f100L, 0x3L},                               // invalidation wait
        {0xfff0_0000_0000_f1c0L, 0xf80L},                   // PASID-based IOTLB
        {0xfff0_0000_0000_f1c0L, 0},                        // PASID cache
        {0, 0x7feL},                                        // PASID-based device-TLB
        {0xfff0_0000_0000_01c0L, 0xffff_ffff_ffff_f003L},   // page group response
    };

    /** Whether the descriptor may be carried out: a known type, valid granularity, no reserved bit set. */
    static Outcome validate(QiDescriptor d) {
        int type = d.type();
        if (type < QiDescriptor.TYPE_CONTEXT_CACHE || type > QiDescriptor.TYPE_PAGE_GROUP_RESPONSE) {
            return Outcome.INVALID_TYPE;
        }
        boolean granularityOk = switch (type) {
            case QiDescriptor.TYPE_CONTEXT_CACHE -> d.granularity() != 0;
            case QiDescriptor.TYPE_IOTLB -> d.granularity() != 0 && d.addressMask() <= MAMV;
            case QiDescriptor.TYPE_PASID_IOTLB -> d.granularity() >= QiDescriptor.PIOTLB_PASID;
            case QiDescriptor.TYPE_PASID_CACHE -> d.granularity() != 2;
            default -> true;
        };
        long[] reserved = RESERVED[type];
        return granularityOk && (d.qw0() & reserved[0]) == 0 && (d.qw1() & reserved[1]) == 0 ? Outcome.DONE
                : Outcome.RESERVED_FIELD;
    }

    /** Carries out a valid descriptor other than a wait. */
    Outcome execute(QiDescriptor d) {
        switch (d.type()) {
            case QiDescriptor.TYPE_CONTEXT_CACHE -> contextCache(d);
            case QiDescriptor.TYPE_IOTLB -> iotlb(d);
            case QiDescriptor.TYPE_PASID_IOTLB -> pasidIotlb(d);
            case QiDescriptor.TYPE_PASID_CACHE -> pasidCache(d);
            case QiDescriptor.TYPE_DEVICE_TLB, QiDescriptor.TYPE_PASID_DEVICE_TLB -> {
                return deviceTlb(d) ? Outcome.DONE : Outcome.NO_ITAG;
            }
            case QiDescriptor.TYPE_PAGE_GROUP_RESPONSE -> pageGroupResponse(d);
            default -> {
                // interrupt entry cache: interrupt remapping is not modelled
            }
        }
        return Outcome.DONE;
    }

    private void contextCache(QiDescriptor d) {
        int dropped = switch (d.granularity()) {
            case QiDescriptor.CC_GLOBAL -> caches.invalidateContextGlobal();
            case QiDescriptor.CC_DOMAIN -> caches.invalidateContextDomain(d.domainId());
            default -> caches.invalidateContextDevice(d.contextSid(), d.contextFunctionMask());
        };
        trace("context-cache invalidation %s: %d entr%s dropped", switch (d.granularity()) {
            case QiDescriptor.CC_GLOBAL -> "global";
            case QiDescriptor.CC_DOMAIN -> "DID " + d.domainId();
            default -> String.format("SID %04x FM %d", d.contextSid(), d.contextFunctionMask());
        }, dropped, dropped == 1 ? "y" : "ies");
    }

    private void iotlb(QiDescriptor d) {
        long length = 4096L << d.addressMask();
        int did = d.domainId();
        long addr = d.pageAddr() & -length;
        int dropped = switch (d.granularity()) {
            case QiDescriptor.IOTLB_GLOBAL -> iotlb.invalidate((tag, t) -> true);
            case QiDescriptor.IOTLB_DOMAIN -> iotlb.invalidate((tag, t) -> Translation.tagDid(tag) == did);
            default -> iotlb.invalidate((tag, t) -> Translation.tagDid(tag) == did
                    && (t.kind() == Translation.Kind.NESTED || !t.kind().usesFirstStage() && t.overlaps(addr, length)));
        };
        trace("IOTLB invalidation G=%d DID %d%s%s: %d entr%s dropped", d.granularity(), d.domainId(),
                d.granularity() == QiDescriptor.IOTLB_PAGE ? String.format(" %#x AM %d", d.pageAddr(), d.addressMask())
                        : "", d.has(3L << 6) ? " (drain: no request in flight)" : "", dropped, dropped == 1 ? "y" : "ies");
    }

    private void pasidIotlb(QiDescriptor d) {
        long length = 4096L << d.addressMask();
        boolean all = d.granularity() == QiDescriptor.PIOTLB_PASID;
        long addr = d.pageAddr() & -length;
        int did = d.domainId();
        int pasid = d.pasid();
        int dropped = iotlb.invalidate((tag, t) -> Translation.tagDid(tag) == did && Translation.tagPasid(tag) == pasid
                && t.kind().usesFirstStage() && (all || t.overlaps(addr, length)));
        trace("PASID-based IOTLB invalidation DID %d PASID %d%s: %d entr%s dropped", d.domainId(), d.pasid(),
                d.granularity() == QiDescriptor.PIOTLB_PAGE ? String.format(" %#x AM %d", d.pageAddr(), d.addressMask())
                        : "", dropped, dropped == 1 ? "y" : "ies");
    }

    private void pasidCache(QiDescriptor d) {
        int dropped = switch (d.granularity()) {
            case QiDescriptor.PC_DOMAIN -> caches.invalidatePasidDomain(d.domainId());
            case QiDescriptor.PC_PASID -> caches.invalidatePasid(d.domainId(), d.pasid());
            default -> caches.invalidatePasidGlobal();
        };
        trace("PASID-cache invalidation G=%d DID %d PASID %d: %d entr%s dropped", d.granularity(), d.domainId(),
                d.pasid(), dropped, dropped == 1 ? "y" : "ies");
    }

    /** Sends the ATS Invalidate Request of a descriptor; false when the requester has no free ITAG. */
    private boolean deviceTlb(QiDescriptor d) {
        int rid = d.deviceTlbSid();
        boolean withPasid = d.type() == QiDescriptor.TYPE_PASID_DEVICE_TLB;
        AtsInvalidateRequest request = deviceTlb.send(rid, withPasid, withPasid ? d.pasid() : 0, d.deviceTlbGlobal(),
                d.deviceTlbBase(), d.deviceTlbSize());
        if (request == null) {
            return false;
        }
        trace("ATS Invalidate Request to %04x%s %#x+%#x ITAG %d", rid, withPasid ? " PASID " + d.pasid() : "",
                request.addr(), request.size(), request.itag());
        return true;
    }

    private void pageGroupResponse(QiDescriptor d) {
        trace("page group response RID %04x PASID %d PRGI %d code %#x", d.pgrpRid(), d.pgrpPasid(), d.pgrpIndex(),
                d.pgrpCode());
        unit.fabric().sendPrgResponse(new PrgResponse(d.pgrpRid(), d.pgrpPasidPresent(), d.pgrpPasid(), d.pgrpIndex(),
                d.pgrpCode(), d.pgrpPrivateData()));
    }

    private void trace(String format, Object... args) {
        if (unit.loop().trace().enabled()) { // spares the prefixed format and arguments when nobody listens
            unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi",
                    "%s: " + format, Trace.prepend(unit.config().name(), args));
        }
    }
}
