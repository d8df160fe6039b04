package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.InterruptLine;

/**
 * The control register of one of the unit's interrupt events (VT-d spec §7.4: fault event FECTL, page request
 * event PECTL, invalidation completion event IECTL): with IM clear an interrupt condition sends the message
 * (after the MSI latency, to the line software registered); with IM set it sets IP instead, and software
 * clearing IM sends the held message. Only IM is writable.
 */
final class EventControl {

    private final VtdUnit unit;
    private final String label;
    private final Runnable onDelivery;
    private InterruptLine line;
    private int ectl;

    /**
     * @param label      event-loop label of the message
     * @param onDelivery runs as each message is sent (a trace line)
     */
    EventControl(VtdUnit unit, String label, Runnable onDelivery) {
        this.unit = unit;
        this.label = label;
        this.onDelivery = onDelivery;
    }

    void setLine(InterruptLine interrupt) {
        this.line = interrupt;
    }

    long read() {
        return ectl & 0xffffffffL;
    }

    void write(long value) {
        boolean unmasking = (ectl & VtdRegs.ECTL_IM) != 0 && (value & VtdRegs.ECTL_IM) == 0;
        ectl = (ectl & VtdRegs.ECTL_IP) | ((int) value & VtdRegs.ECTL_IM);
        if (unmasking && (ectl & VtdRegs.ECTL_IP) != 0) {
            deliver();
        }
    }

    /** An interrupt condition: the message goes out now, or is held in IP while IM is set. */
    void raise() {
        if ((ectl & VtdRegs.ECTL_IM) != 0) {
            ectl |= VtdRegs.ECTL_IP;
            return;
        }
        deliver();
    }

    /** Software serviced what the held message was about: IP is cleared. */
    void clearPending() {
        ectl &= ~VtdRegs.ECTL_IP;
    }

    private void deliver() {
        ectl &= ~VtdRegs.ECTL_IP;
        InterruptLine target = line;
        if (target == null) {
            return;
        }
        onDelivery.run();
        unit.loop().schedule(unit.timing().msiNs(), label, target::raise);
    }
}
