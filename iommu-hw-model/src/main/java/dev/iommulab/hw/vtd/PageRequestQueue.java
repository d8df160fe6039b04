package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.MemoryRing;
import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;

/**
 * The page request queue of a VT-d unit (VT-d spec §7.5, reference/iommu-hardware.md §2.1.3): a ring in
 * memory ({@code PQA} with PQS: 2^PQS pages of 32-byte descriptors; {@code PQH}, {@code PQT} hold byte
 * offsets; a full ring is one slot short of its size), the status bits PPR and PRO, and the page request
 * event. The ring and PRO are a {@link MemoryRing} of style {@link OverflowStyle#VTD_PAGE_REQUEST_QUEUE}.
 *
 * <p>A page request is checked against the context (and PASID) entries one walk latency after it
 * arrives, then queued. What happens to a request that cannot be queued follows VT-d spec Table 31:
 * remapping-table faults (legacy mode 0x32, PRE clear 0x47, PASID faults, ...) are recorded and an LPIG
 * request is answered Invalid Request by the hardware; a full queue or PRO set gets Success for LPIG
 * requests (when the option is on); non-LPIG requests and stop markers are dropped silently. The counts
 * of requests received and of requests done with are what a page-request-drain wait waits for.
 */
final class PageRequestQueue {

    /** log2 of the descriptors in one 4 KiB page: 2^PQS pages hold 2^(PQS + 7) descriptors. */
    private static final int PQS_TO_LOG2_ENTRIES = 7;

    private final VtdUnit unit;
    private final MemoryRing ring;
    private final EventControl event;
    private long pqa;
    private boolean ppr;
    private long received;
    private long processed;

    PageRequestQueue(VtdUnit unit) {
        this.unit = unit;
        this.event = new EventControl(unit, "prq-event", () -> { });
        this.ring = new MemoryRing(unit.memory(), OverflowStyle.VTD_PAGE_REQUEST_QUEUE, VtdRegs.DESC_SIZE);
        ring.setBase(0, PQS_TO_LOG2_ENTRIES);
    }

    EventControl event() {
        return event;
    }

    /** Page requests that have arrived at the unit. */
    long received() {
        return received;
    }

    /** Page requests the unit is done with (queued, answered or dropped). */
    long processed() {
        return processed;
    }

    long readReg(int offset) {
        return switch (offset) {
            case VtdRegs.PQA -> pqa;
            case VtdRegs.PQH -> (long) ring.head() * VtdRegs.DESC_SIZE;
            case VtdRegs.PQT -> (long) ring.tail() * VtdRegs.DESC_SIZE;
            case VtdRegs.PRS -> prs();
            case VtdRegs.PECTL -> event.read();
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.PQA -> {
                pqa = value;
                ring.setBase(pqa & VtdEntries.ADDR_MASK, PQS_TO_LOG2_ENTRIES + (int) (pqa & 0x7));
                ring.setHead(0);
                ring.setTail(0);
            }
            case VtdRegs.PQH -> ring.setHead(value >>> 5); // byte offset of a 32-byte descriptor
            case VtdRegs.PRS -> { // RW1C
                ppr &= (value & VtdRegs.PRS_PPR) == 0;
                if ((value & VtdRegs.PRS_PRO) != 0) {
                    ring.acknowledgeOverflow();
                }
            }
            case VtdRegs.PECTL -> event.write(value);
            default -> {
            }
        }
    }

    private int prs() {
        return (ppr ? VtdRegs.PRS_PPR : 0) | (ring.overflowPending() ? VtdRegs.PRS_PRO : 0);
    }

    /** A page request message arrives; it is looked at one walk latency later, in arrival order. */
    void receive(PageRequestMessage m) {
        received++;
        unit.loop().schedule(unit.timing().iommuWalkNs(), "vtd-page-request", () -> {
            process(m);
            processed++;
            unit.invalidationQueue().progress();
        });
    }

    private void process(PageRequestMessage m) {
        VtdFaultReason fault = null;
        boolean fpd = false;
        int mode = unit.engine().mode();
        if (mode != 1) {
            fault = mode == 0 ? VtdFaultReason.TTM0_PAGE_REQUEST : VtdFaultReason.SM_INVALID_ROOT_TABLE_ADDRESS;
        } else {
            Found<?> f = check(m);
            fault = f.fault();
            fpd = f.fpd();
        }
        if (fault != null) {
            unit.reportFault(fault, fpd, new FaultRecord(m.rid(), m.pasidPresent(), m.pasid(), m.pageAddr(),
                    FaultRecord.Type.PAGE_REQUEST, 0, m.exe(), m.priv(), fault.code()),
                    m.write() ? Access.WRITE : Access.READ);
            autoRespond(m, PrgResponseCode.INVALID_REQUEST, "remapping-table fault");
            return;
        }
        queue(m);
    }

    /** Context entry (PRE) and, for a request with PASID, the PASID entry. */
    private Found<?> check(PageRequestMessage m) {
        StructureCaches caches = unit.engine().caches();
        Found<ContextEntry> c = caches.context(unit.rootTable(), true, m.rid());
        if (!c.ok()) {
            return c;
        }
        ContextEntry ctx = c.value();
        if (!ctx.pre()) {
            return Found.fault(VtdFaultReason.SM_CONTEXT_PRE_CLEAR, ctx.fpd());
        }
        if (!m.pasidPresent()) {
            return c;
        }
        if (!ctx.pasidEnabled()) {
            return Found.fault(VtdFaultReason.SM_CONTEXT_PASIDE_CLEAR, ctx.fpd());
        }
        if (m.pasid() >= ctx.pasidLimit()) {
            return Found.fault(VtdFaultReason.SM_PASID_TOO_LARGE, ctx.fpd());
        }
        return caches.pasidEntry(m.rid(), ctx, m.pasid());
    }

    private void queue(PageRequestMessage m) {
        boolean wasPending = ppr;
        switch (ring.push(PageRequestDescriptor.of(m))) {
            case WRITTEN -> {
                trace("queued page request RID %04x PASID %d PRGI %d addr %#x%s at PQT %#x", m.rid(), m.pasid(),
                        m.prgi(), m.pageAddr(), m.last() ? " LPIG" : "", (long) ring.tail() * VtdRegs.DESC_SIZE);
                ppr = true;
                if (!wasPending) {
                    event.raise();
                }
            }
            case OVERFLOWED -> {
                trace("page request queue full: PRO set, PRGI %d not queued", m.prgi());
                if (!wasPending) {
                    event.raise();
                }
                autoRespond(m, ring.style().rule().lostRequestResponse(), "queue full");
            }
            case WRITE_FAULT -> trace("page request descriptor at %#x outside memory: PRGI %d dropped",
                    ring.slotAddress(ring.tail()), m.prgi());
            default -> {
                trace("PRO set: page request PRGI %d not queued", m.prgi());
                autoRespond(m, ring.style().rule().lostRequestResponse(), "overflow pending");
            }
        }
    }

    /**
     * The unit's own page group response to a request it could not queue: only a request that needs a response
     * gets one (LPIG, or private data present: VT-d spec Table 31, iommu-hardware §2.1.3), with its private data
     * echoed.
     */
    private void autoRespond(PageRequestMessage m, PrgResponseCode code, String why) {
        if (!(m.last() || m.privateData() != null) || m.isStopMarker()) {
            trace("%s: %s dropped silently", why, m.isStopMarker() ? "stop marker" : "non-LPIG request");
            return;
        }
        if (code == PrgResponseCode.SUCCESS && !unit.config().autoRespondOnPrqFull()) {
            trace("%s: LPIG request dropped (auto-response disabled)", why);
            return;
        }
        trace("%s: hardware answers PRGI %d with %s", why, m.prgi(), code);
        unit.fabric().sendPrgResponse(new PrgResponse(m.rid(), m.pasidPresent(), m.pasid(), m.prgi(), code.wire(),
                m.privateData()));
    }

    private void trace(String format, Object... args) {
        if (unit.loop().trace().enabled()) { // spares the prefixed format and arguments when nobody listens
            unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-prq",
                    "%s: " + format, Trace.prepend(unit.config().name(), args));
        }
    }
}
