package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.viommu.ViommuOptions.Implementation;
import dev.iommulab.hw.viommu.ViommuOptions.NoBuffer;
import dev.iommulab.hw.virtio.PopResult;
import dev.iommulab.hw.virtio.VirtqueueDevice;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The event queue's producer: QEMU's virtio_iommu_report_fault(), one 24-byte record per fault in the next buffer
 * the driver left (virtio 1.x §5.13.6.8 Fault reporting). With no buffer the record is dropped or, with
 * {@link NoBuffer#WAIT}, held until the driver adds buffers ({@link #refill}), at most
 * {@link ViommuOptions#waitDepth()} of them in the order they came; a fault beyond that, and every held one at a
 * device reset, is dropped. Each fault is told to both observers once its fate is known.
 */
final class EventReporter {

    /** A fault waiting for its fate; {@code rid}, {@code access} and {@code common} are for the observers. */
    private record Detected(long atNs, ViommuFault fault, Access access, HwFaultReason common) {
    }

    private final VirtioIommu device;
    private final ViommuOptions options;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final HwFaultObserver faultObserver;
    private final ViommuEventObserver eventObserver;
    private final Deque<Detected> held = new ArrayDeque<>();
    private long delivered;
    private long dropped;

    EventReporter(VirtioIommu device, PhysicalMemory memory, EventLoop loop, HwFaultObserver faultObserver,
                  ViommuEventObserver eventObserver) {
        this.device = device;
        this.options = device.options();
        this.memory = memory;
        this.loop = loop;
        this.faultObserver = faultObserver;
        this.eventObserver = eventObserver;
    }

    /** A fault just detected. */
    void report(ViommuFault fault, Access access, HwFaultReason common) {
        Detected d = new Detected(loop.now(), fault, access, common);
        refill(); // buffers the driver added without a kick (Linux fills the queue so) take held records first
        if (!held.isEmpty()) {
            hold(d); // records leave in the order of their faults
        } else if (!deliver(d)) {
            if (options.noBuffer() == NoBuffer.WAIT && !device.needsReset()) {
                hold(d);
            } else {
                device.logOnce("no-buffer", "no buffer available in event queue to report event");
                settle(d, false);
            }
        }
    }

    /** The driver added event buffers: the held records go out while there are buffers. */
    void refill() {
        while (!held.isEmpty() && deliver(held.peekFirst())) {
            held.removeFirst();
        }
    }

    /** The faults whose records wait for a buffer, oldest first. */
    List<ViommuFault> heldFaults() {
        return held.stream().map(Detected::fault).toList();
    }

    /** A device reset: every held record is lost. */
    void reset() {
        while (!held.isEmpty()) {
            settle(held.removeFirst(), false);
        }
    }

    int held() {
        return held.size();
    }

    long delivered() {
        return delivered;
    }

    long dropped() {
        return dropped;
    }

    private void hold(Detected d) {
        if (held.size() < options.waitDepth()) {
            held.addLast(d);
        } else {
            device.logOnce("backlog", "event backlog full: event dropped");
            settle(d, false);
        }
    }

    /**
     * Puts {@code d} in the next event buffer; false when there is none (the record is still the caller's). A
     * malformed chain breaks the device and a buffer too small for a record is QEMU's virtio_error(), or by the
     * specification (which forbids splitting a record) returned unwritten: {@code d} is dropped in both cases.
     */
    private boolean deliver(Detected d) {
        VirtqueueDevice q = device.liveQueue(ViommuWire.EVENT_QUEUE);
        PopResult popped = q == null ? new PopResult.Empty() : q.pop();
        if (popped instanceof PopResult.Malformed m) {
            device.fail(m.message());
            settle(d, false);
            return true;
        }
        if (!(popped instanceof PopResult.Popped p)) {
            return false;
        }
        if (p.chain().writableBytes() < ViommuWire.FAULT_BYTES) {
            if (options.implementation() == Implementation.QEMU) {
                device.fail("error buffer of wrong size");
            } else {
                q.push(p.chain(), 0);
                device.interrupt(ViommuWire.EVENT_QUEUE);
            }
            settle(d, false);
            return true;
        }
        q.push(p.chain(), p.chain().scatter(memory, d.fault().encode()));
        settle(d, true);
        device.interrupt(ViommuWire.EVENT_QUEUE);
        return true;
    }

    private void settle(Detected d, boolean reached) {
        if (reached) {
            delivered++;
        } else {
            dropped++;
        }
        ViommuFault f = d.fault();
        faultObserver.faultDetected(new HwFault(d.atNs(), f.endpoint(), -1, f.address(), d.access(), d.common(),
                f.reason().code(), reached));
        eventObserver.eventSettled(new ViommuEvent(d.atNs(), f, reached, reached ? loop.now() - d.atNs() : 0));
    }
}
