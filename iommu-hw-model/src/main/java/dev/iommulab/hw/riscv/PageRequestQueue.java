package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;

/**
 * The page-request queue (riscv-iommu "Page-Request-Queue (PQ)", "PCIe ATS Page Request handling" and
 * register {@code pqcsr}; reference/iommu-hardware.md §2.4.3, §6 scenarios 8-12; RV-REF
 * {@code handle_page_request}). A "Page Request" or "Stop Marker" is queued as a 16-byte record when its
 * device context has {@code EN_ATS} and {@code EN_PRI} and the queue can take it. Otherwise non-last requests
 * and stop markers are dropped silently, and a request with L = 1 is answered by the IOMMU itself:
 * Response Failure (mode Off, DDT fault, queue off or {@code pqmf}), Invalid Request (mode Bare, device_id
 * too wide, {@code EN_PRI} = 0) or Success (queue full or {@code pqof}). Causes found while locating the
 * device context are recorded with TTYP 9 and the message code in {@code iotval}; queue conditions are not.
 * The registers and the ring are a {@link ProducerQueue} of style {@link OverflowStyle#RISCV_PAGE_REQUEST_QUEUE}.
 */
final class PageRequestQueue {

    private final RiscvIommu iommu;
    private final ProducerQueue queue;

    PageRequestQueue(RiscvIommu iommu, InterruptPending ipsr) {
        this.iommu = iommu;
        this.queue = new ProducerQueue(iommu.memory(), OverflowStyle.RISCV_PAGE_REQUEST_QUEUE, RiscvRegs.PQ_ENTRY_SIZE,
                ipsr, RiscvRegs.IPSR_PIP, RiscvRegs.PQB, RiscvRegs.PQCSR, () -> { });
    }

    long readReg(int offset) {
        return queue.readReg(offset);
    }

    void writeReg(int offset, long value) {
        queue.writeReg(offset, value);
    }

    void receive(PageRequestMessage m) {
        long ddtp = iommu.ddtp();
        int mode = (int) (ddtp & RiscvRegs.DDTP_MODE_MASK);
        if (mode == RiscvRegs.DDTP_MODE_OFF) {
            report(m, Outcome.Fault.of(RiscvCause.ALL_INBOUND_DISALLOWED, HwFaultReason.IOMMU_BLOCKED_ALL), false);
            respond(m, PrgResponseCode.RESPONSE_FAILURE, false, "iommu_mode Off");
            return;
        }
        if (mode == RiscvRegs.DDTP_MODE_BARE) {
            report(m, Outcome.Fault.of(RiscvCause.TRANSACTION_TYPE_DISALLOWED, HwFaultReason.REQUEST_TYPE_DISALLOWED),
                    false);
            respond(m, PrgResponseCode.INVALID_REQUEST, false, "iommu_mode Bare");
            return;
        }
        Located<RiscvDeviceContext> located = iommu.translation().deviceContexts().locate(ddtp, m.rid());
        if (!located.ok()) {
            report(m, located.fault(), false);
            boolean tooWide = located.fault().cause() == RiscvCause.TRANSACTION_TYPE_DISALLOWED;
            respond(m, tooWide ? PrgResponseCode.INVALID_REQUEST : PrgResponseCode.RESPONSE_FAILURE, false,
                    "no device context (cause " + located.fault().cause() + ")");
            return;
        }
        RiscvDeviceContext dc = located.context();
        boolean prpr = dc.has(RiscvDeviceContext.TC_PRPR);
        if (!dc.has(RiscvDeviceContext.TC_EN_ATS) || !dc.has(RiscvDeviceContext.TC_EN_PRI)) {
            report(m, Outcome.Fault.of(RiscvCause.TRANSACTION_TYPE_DISALLOWED, HwFaultReason.REQUEST_TYPE_DISALLOWED),
                    dc.has(RiscvDeviceContext.TC_DTF));
            respond(m, PrgResponseCode.INVALID_REQUEST, prpr, "EN_PRI = 0");
            return;
        }
        if (!queue.has(ProducerQueue.EN) || !queue.has(ProducerQueue.ON) || queue.has(ProducerQueue.MF)) {
            respond(m, PrgResponseCode.RESPONSE_FAILURE, prpr, queue.has(ProducerQueue.MF) ? "pqmf set" : "PQ off");
            return;
        }
        queue(m, prpr);
    }

    /** The device context lets {@code m} in and the queue is on: written at {@code pqt}, or lost to overflow. */
    private void queue(PageRequestMessage m, boolean prpr) {
        PrgResponseCode lost = queue.ring().style().rule().lostRequestResponse();
        switch (queue.push(RiscvPageRequestRecord.of(m))) {
            case WRITTEN -> iommu.trace("riscv-pq",
                    "queued page request DID %04x PASID %s PRGI %d addr %#x%s%s at pqt %d", m.rid(),
                    m.pasidPresent() ? m.pasid() : "-", m.prgi(), m.pageAddr(), m.last() ? " L" : "",
                    m.isStopMarker() ? " (stop marker)" : "", queue.ring().tail());
            case OVERFLOWED -> respond(m, lost, prpr, "PQ full: pqof set");
            case WRITE_FAULT -> respond(m, PrgResponseCode.RESPONSE_FAILURE, prpr, "PQ record write fault: pqmf set");
            default -> respond(m, lost, prpr, "pqof set");
        }
    }

    private void report(PageRequestMessage m, Outcome.Fault fault, boolean dtf) {
        RiscvFaultRecord record = new RiscvFaultRecord(fault.cause(), m.pasidPresent() ? m.pasid() : 0, m.pasidPresent(),
                m.pasidPresent() && m.priv(), RiscvFaultRecord.TTYP_PCIE_MESSAGE, m.rid(),
                RiscvFaultRecord.PAGE_REQUEST_MESSAGE_CODE, 0);
        iommu.report(record, dtf, fault.reason(), m.pageAddr(), m.write() ? Access.WRITE : Access.READ);
    }

    /**
     * The IOMMU's own PRG response to {@code m}, if it needs one: PASID for Success and Invalid Request only
     * with {@code prpr}, always for Response Failure.
     */
    private void respond(PageRequestMessage m, PrgResponseCode code, boolean prpr, String why) {
        if (!m.last() || m.isStopMarker()) {
            iommu.trace("riscv-pq", "%s: %s PRGI %d discarded", why,
                    m.isStopMarker() ? "stop marker" : "page request (L = 0)", m.prgi());
            return;
        }
        if (!iommu.config().autoRespondPageRequests()) {
            iommu.trace("riscv-pq", "%s: page request PRGI %d dropped (auto-response off)", why, m.prgi());
            return;
        }
        boolean withPasid = m.pasidPresent() && (prpr || code == PrgResponseCode.RESPONSE_FAILURE);
        iommu.trace("riscv-pq", "%s: IOMMU answers PRGI %d of %04x with %s", why, m.prgi(), m.rid(), code);
        iommu.fabric().sendPrgResponse(new PrgResponse(m.rid(), withPasid, withPasid ? m.pasid() : 0, m.prgi(),
                code.wire()));
    }
}
