package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.InterruptLine;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.Layer;

/**
 * The page request queue of a VT-d unit: a ring in memory ({@code PQA}, {@code PQH}, {@code PQT}),
 * the status bits PPR and PRO, and the page request event. What happens to a request that cannot be
 * queued follows VT-d spec Table 31: remapping-table faults are answered Invalid Request by the
 * hardware for LPIG requests; a full queue or PRO set gets Success for LPIG requests (when the option
 * is on); non-LPIG requests and stop markers are dropped silently.
 */
final class PageRequestQueue {

    private final VtdUnit unit;
    private InterruptLine interrupt;
    private long pqa;
    private long head;
    private long tail;
    private int prs;
    private int pectl;

    PageRequestQueue(VtdUnit unit) {
        this.unit = unit;
    }

    void setInterrupt(InterruptLine line) {
        this.interrupt = line;
    }

    long readReg(int offset) {
        return switch (offset) {
            case VtdRegs.PQA -> pqa;
            case VtdRegs.PQH -> head;
            case VtdRegs.PQT -> tail;
            case VtdRegs.PRS -> prs;
            case VtdRegs.PECTL -> pectl & 0xffffffffL;
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.PQA -> {
                pqa = value;
                head = 0;
                tail = 0;
            }
            case VtdRegs.PQH -> head = value & (size() - VtdRegs.DESC_SIZE);
            case VtdRegs.PRS -> prs &= ~(int) value; // RW1C
            case VtdRegs.PECTL -> pectl = (int) value;
            default -> {
            }
        }
    }

    /** Ring size in bytes: 2^PQS pages of 4 KiB. */
    private long size() {
        return 4096L << (pqa & 0x7);
    }

    private long base() {
        return pqa & VtdEntries.ADDR_MASK;
    }

    void receive(PageRequestMessage m) {
        ContextWalk.Result ctx = unit.contextWalk().context(unit.rootTable(), m.rid());
        if (ctx.ok() && !ctx.contextHas(VtdEntries.CTX_PRE)) {
            ctx = ContextWalk.Result.fault(VtdFaultReason.SM_CONTEXT_PRE_CLEAR, ctx.fpd());
        } else if (ctx.ok() && m.pasidPresent()) {
            ctx = unit.contextWalk().resolve(unit.rootTable(), m.rid(), true, m.pasid());
        }
        if (!ctx.ok()) {
            unit.reportFault(ctx.fault(), ctx.fpd(), m.rid(), m.pasidPresent() ? m.pasid() : -1, m.pageAddr(),
                    m.write() ? Access.WRITE : Access.READ);
            autoRespond(m, PrgResponseCode.INVALID_REQUEST, "remapping-table fault");
            return;
        }
        if ((prs & VtdRegs.PRS_PRO) != 0) {
            trace("PRO set: page request PRGI %d not queued", m.prgi());
            autoRespond(m, PrgResponseCode.SUCCESS, "overflow pending");
            return;
        }
        long next = (tail + VtdRegs.DESC_SIZE) % size();
        if (next == head) {
            boolean raise = (prs & (VtdRegs.PRS_PPR | VtdRegs.PRS_PRO)) == 0;
            prs |= VtdRegs.PRS_PRO;
            trace("page request queue full: PRO set, PRGI %d not queued", m.prgi());
            if (raise) {
                raiseEvent();
            }
            autoRespond(m, PrgResponseCode.SUCCESS, "queue full");
            return;
        }
        PageRequestDescriptor.of(m).writeTo(unit.memory(), base() + tail);
        tail = next;
        trace("queued page request RID %04x PASID %d PRGI %d addr %#x%s at PQT %#x", m.rid(), m.pasid(), m.prgi(),
                m.pageAddr(), m.last() ? " LPIG" : "", tail);
        if ((prs & VtdRegs.PRS_PPR) == 0) {
            prs |= VtdRegs.PRS_PPR;
            raiseEvent();
        }
    }

    private void autoRespond(PageRequestMessage m, PrgResponseCode code, String why) {
        if (!m.last() || m.isStopMarker()) {
            trace("%s: %s dropped silently", why, m.isStopMarker() ? "stop marker" : "non-LPIG request");
            return;
        }
        if (code == PrgResponseCode.SUCCESS && !unit.config().autoRespondOnPrqFull()) {
            trace("%s: LPIG request dropped (auto-response disabled)", why);
            return;
        }
        trace("%s: hardware answers PRGI %d with %s", why, m.prgi(), code);
        unit.fabric().sendPrgResponse(new PrgResponse(m.rid(), m.pasidPresent(), m.pasid(), m.prgi(), code.wire()));
    }

    private void raiseEvent() {
        if ((pectl & VtdRegs.PECTL_IM) != 0 || interrupt == null) {
            return;
        }
        InterruptLine line = interrupt;
        unit.loop().schedule(unit.timing().msiNs(), "prq-event", line::raise);
    }

    private void trace(String format, Object... args) {
        unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-prq",
                unit.config().name() + ": " + String.format(format, args));
    }
}
