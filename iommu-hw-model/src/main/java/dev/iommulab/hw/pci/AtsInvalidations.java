package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The function's side of ATS invalidation (PCIe ATS Invalidate Request / Invalidate Completion):
 * <ul>
 *   <li>the covered ATC entries are dropped at once;</li>
 *   <li>an outstanding Translation Request the invalidation overlaps is nullified: its completion may carry
 *       the old translation, so the function discards it and asks again;</li>
 *   <li>the Invalidate Completion (ITAG vector with this request's ITAG) is sent only once every outstanding
 *       read that used a covered translation has retired (PCIe: a function may not report the invalidation
 *       complete while requests using the stale translation are outstanding); posted writes already sent go
 *       ahead of it by PCIe ordering;</li>
 *   <li>fault knob: a function that never completes invalidations drops the entries and stays silent, so
 *       the IOMMU's invalidation wait times out (reference §6 scenarios 14, 27, 38).</li>
 * </ul>
 */
final class AtsInvalidations {

    /** An invalidation whose completion waits for reads that use a covered translation. */
    private record Held(AtsInvalidateRequest request, Set<ReadTags.Tag> reads) {
    }

    private final PcieEndpoint ep;
    private final List<Held> held = new ArrayList<>();
    private boolean neverComplete;

    AtsInvalidations(PcieEndpoint ep) {
        this.ep = ep;
        this.neverComplete = ep.config().options().invalidationsNeverComplete();
    }

    void setNeverComplete(boolean on) {
        neverComplete = on;
    }

    void receive(AtsInvalidateRequest request) {
        boolean global = ep.config().options().globalInvalidateSupported();
        int dropped = ep.atc.invalidate(request, global);
        Set<ReadTags.Tag> reads = new HashSet<>();
        int nullified = 0;
        for (ReadTags.Tag tag : ep.tags().outstandingTags()) {
            if (!Atc.covers(request, global, tag.pasid, tag.page, Atc.PAGE)) {
                continue;
            }
            if (tag.kind == ReadTags.Kind.TRANSLATION && !tag.nullified) {
                tag.nullified = true;
                nullified++;
            } else if (tag.kind == ReadTags.Kind.READ && tag.translated) {
                reads.add(tag);
            }
        }
        trace("%s invalidates ATC %#x+%#x%s (ITAG %d): %d entr%s dropped%s%s", ep.config().name(),
                request.addr(), request.size(), scope(request, global), request.itag(), dropped,
                dropped == 1 ? "y" : "ies", nullified > 0 ? ", " + nullified + " translation request(s) nullified" : "",
                reads.isEmpty() ? "" : ", completion waits for " + reads.size() + " translated read(s)");
        if (reads.isEmpty()) {
            complete(request);
        } else {
            held.add(new Held(request, reads));
        }
    }

    private static String scope(AtsInvalidateRequest r, boolean globalSupported) {
        if (!r.pasidPresent()) {
            return "";
        }
        if (r.global()) {
            return globalSupported ? " (all PASIDs)" : " PASID " + r.pasid() + " (Global bit ignored: not supported)";
        }
        return " PASID " + r.pasid();
    }

    /** A read tag retired: invalidations that waited only for it complete now. */
    void onRetired(ReadTags.Tag tag) {
        if (held.isEmpty()) { // every retired tag asks; an invalidation is rarely held
            return;
        }
        List<AtsInvalidateRequest> ready = new ArrayList<>();
        held.removeIf(h -> {
            h.reads().remove(tag);
            if (h.reads().isEmpty()) {
                ready.add(h.request());
                return true;
            }
            return false;
        });
        ready.forEach(this::complete);
    }

    /** FLR: the ATC is empty and outstanding reads are discarded, so held invalidations are complete. */
    void functionLevelReset() {
        List<Held> pending = new ArrayList<>(held);
        held.clear();
        pending.forEach(h -> complete(h.request()));
    }

    private void complete(AtsInvalidateRequest request) {
        if (neverComplete) {
            trace("%s never completes invalidation ITAG %d (fault knob)", ep.config().name(),
                    request.itag());
            return;
        }
        EventLoop loop = ep.loop();
        int rid = ep.rid();
        loop.schedule(ep.timing().pcieTlpNs(), "ats-invalidate-completion",
                () -> ep.iommu().atsInvalidateCompletion(rid, 1 << request.itag()));
    }

    private void trace(String format, Object... args) {
        ep.loop().trace().step(ep.loop().now(), Layer.DEVICE, "ats-inval", format, args);
    }
}
