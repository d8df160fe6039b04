package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.sim.EventHandle;
import dev.iommulab.hw.sim.Layer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Device-TLB invalidations in flight (VT-d spec §6.5.2.5, §6.5.2.6, §4.3): each device-TLB or
 * PASID-based device-TLB descriptor becomes a PCIe ATS Invalidate Request with an invalidation tag
 * (ITAG 0..31, free per requester) sent through the fabric; the function's Invalidate Completion
 * ({@code IommuHardware.atsInvalidateCompletion}) retires it. Wait descriptors behind it complete only
 * once it is retired.
 *
 * <p>A completion naming a tag that is not outstanding for that requester sets FSTS.ICE (ICESID in
 * IQERCD). A request unanswered after {@link VtdConfig#deviceTlbTimeoutNs()} is dropped and reported as
 * FSTS.ITE (ITESID); its timer is cancelled when the completion comes back in time.
 */
final class DeviceTlbInvalidations {

    /** One ATS Invalidate Request the function has not answered yet. */
    private record Pending(long seq, int rid, int itag, long sentNs) {
    }

    private final VtdUnit unit;
    private final InvalidationQueue queue;
    private final List<Pending> outstanding = new ArrayList<>();
    private final Map<Pending, EventHandle> timers = new HashMap<>();
    private long issued;

    DeviceTlbInvalidations(VtdUnit unit, InvalidationQueue queue) {
        this.unit = unit;
        this.queue = queue;
    }

    /** How many requests have been issued: a wait fetched now waits for those below this number. */
    long issued() {
        return issued;
    }

    /** Whether every request issued before {@code barrier} has been retired (answered or timed out). */
    boolean retiredBefore(long barrier) {
        return outstanding.stream().noneMatch(p -> p.seq() < barrier);
    }

    int outstandingCount() {
        return outstanding.size();
    }

    /** Sends the ATS Invalidate Request of a descriptor; false when the requester has no free ITAG. */
    boolean send(QiDescriptor d) {
        int rid = d.deviceTlbSid();
        int itag = freeItag(rid);
        if (itag < 0) {
            return false;
        }
        boolean withPasid = d.type() == QiDescriptor.TYPE_PASID_DEVICE_TLB;
        AtsInvalidateRequest request = new AtsInvalidateRequest(rid, withPasid, withPasid ? d.pasid() : 0,
                d.deviceTlbGlobal(), d.deviceTlbBase(), d.deviceTlbSize(), itag);
        Pending p = new Pending(issued++, rid, itag, unit.loop().now());
        outstanding.add(p);
        unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi",
                "%s: ATS Invalidate Request to %04x%s %#x+%#x ITAG %d", unit.config().name(), rid,
                withPasid ? " PASID " + d.pasid() : "", request.addr(), request.size(), itag);
        unit.fabric().sendAtsInvalidate(request);
        scheduleTimeout(p);
        return true;
    }

    private int freeItag(int rid) {
        for (int tag = 0; tag < 32; tag++) {
            int t = tag;
            if (outstanding.stream().noneMatch(p -> p.rid() == rid && p.itag() == t)) {
                return tag;
            }
        }
        return -1;
    }

    private void scheduleTimeout(Pending p) {
        timers.put(p, unit.loop().scheduleAt(p.sentNs() + unit.config().deviceTlbTimeoutNs(), "dev-tlb-inval-timer",
                () -> {
                    timers.remove(p);
                    outstanding.remove(p);
                    unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi",
                            "%s: device-TLB invalidation ITAG %d to %04x timed out", unit.config().name(), p.itag(),
                            p.rid());
                    queue.deviceTlbTimeout(p.rid());
                }));
    }

    /** An Invalidate Completion from {@code rid} for the tags set in {@code itagVector}. */
    void completion(int rid, int itagVector) {
        for (int tag = 0; tag < 32; tag++) {
            if ((itagVector & (1 << tag)) == 0) {
                continue;
            }
            int t = tag;
            Pending p = outstanding.stream().filter(q -> q.rid() == rid && q.itag() == t).findFirst().orElse(null);
            if (p == null) {
                unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-qi",
                        "%s: invalidate completion from %04x for ITAG %d not outstanding", unit.config().name(), rid,
                        tag);
                queue.invalidCompletion(rid);
            } else {
                outstanding.remove(p);
                timers.remove(p).cancel();
            }
        }
        queue.progress();
    }
}
