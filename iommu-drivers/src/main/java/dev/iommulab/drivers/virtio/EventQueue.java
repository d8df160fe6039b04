package dev.iommulab.drivers.virtio;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.Ratelimit;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.hw.virtio.Segment;
import dev.iommulab.hw.virtio.VirtqueueDriver;
import dev.iommulab.hw.virtio.VirtqueueLayout;

import java.util.List;
import java.util.Locale;

/**
 * The event virtqueue as drivers/iommu/virtio-iommu.c drives it: {@code viommu_fill_evtq()} posts one 24-byte
 * device-writable buffer per entry, and {@code viommu_event_handler()}, the queue's callback in interrupt context,
 * takes each used buffer, logs the fault it holds ({@code viommu_fault_handler()}), posts the buffer again and kicks.
 *
 * <p>What the handler does with a buffer, as Linux does: a used length above 24 is logged as an invalid buffer and
 * not read (a shorter one, even 0, is read as it is); a record with a reserved byte set is ignored silently;
 * otherwise the fault is logged with {@code dev_err_ratelimited()} and, with the lab option
 * {@code report-iommu-fault}, handed to the endpoint's domain (the driver's "TODO: find EP by ID and
 * report_iommu_fault").
 */
final class EventQueue {

    /** The fault of one delivered record, for {@code report-iommu-fault}. */
    interface FaultSink {
        void fault(int endpoint, long address, int flags);
    }

    private final VirtioIommu device;
    private final VirtqueueDriver<Long> vq;
    private final PhysicalMemory memory;
    private final KernelLog log;
    private final String prefix;
    private final FaultSink sink;
    private final EventLoop loop;
    private long taken;

    EventQueue(VirtioIommu device, VirtqueueLayout layout, boolean eventIdx, PhysicalMemory memory, EventLoop loop,
               KernelLog log, String prefix, FaultSink sink) {
        this.device = device;
        this.vq = VirtqueueDriver.create(memory, layout, eventIdx);
        this.memory = memory;
        this.loop = loop;
        this.log = log;
        this.prefix = prefix;
        this.sink = sink;
    }

    /** Counterpart of viommu_fill_evtq(): {@code count} buffers of 24 bytes, from frames of {@code frames}; no kick. */
    void fill(FrameAllocator frames, int count) {
        int perFrame = PhysicalMemory.PAGE_SIZE / ViommuWire.FAULT_BYTES;
        long frame = 0;
        for (int i = 0; i < count; i++) {
            if (i % perFrame == 0) {
                frame = frames.allocate();
            }
            post(frame + (long) ViommuWire.FAULT_BYTES * (i % perFrame));
        }
    }

    private boolean post(long buffer) {
        return vq.addSgs(List.of(), List.of(new Segment(buffer, ViommuWire.FAULT_BYTES)), buffer).isPresent();
    }

    /** Used event buffers the handler took back so far. */
    long taken() {
        return taken;
    }

    /** Counterpart of viommu_event_handler(). */
    void interrupt() {
        for (var used = vq.getBuf(); used.isPresent(); used = vq.getBuf()) {
            long buffer = used.get().token();
            long len = used.get().len();
            taken++;
            if (loop.trace().enabled()) {
                loop.trace().step(loop.now(), Layer.DRIVER, "viommu_event_handler", String.format(
                        "%sevent buffer %#x back, %d bytes: reason %d, endpoint %d; posted again", prefix, buffer, len,
                        memory.readByte(buffer) & 0xff, memory.readInt(buffer + 8)));
            }
            if (len > ViommuWire.FAULT_BYTES) {
                log.err("%sinvalid event buffer (len %d != %d)", prefix, len, ViommuWire.FAULT_BYTES);
            } else if ((memory.readInt(buffer) & 0xffff_ff00) == 0) {
                fault(memory.readByte(buffer) & 0xff, memory.readInt(buffer + 4), memory.readInt(buffer + 8),
                        memory.readLong(buffer + 16));
            }
            if (!post(buffer)) {
                log.err("%scould not add event buffer", prefix);
            }
        }
        if (vq.kickPrepare()) {
            device.notify(ViommuWire.EVENT_QUEUE);
        }
    }

    /** Counterpart of viommu_fault_handler(). */
    private void fault(int reason, int flags, int endpoint, long address) {
        String what = switch (reason) {
            case 1 -> "domain";
            case 2 -> "page";
            default -> "unknown";
        };
        String ep = Integer.toUnsignedString(endpoint);
        boolean withAddress = (flags & ViommuWire.FAULT_F_ADDRESS) != 0;
        if (ratelimit(withAddress ? "address" : "endpoint").allow()) { // two dev_err_ratelimited() call sites
            if (withAddress) {
                log.err("%s%s fault from EP %s at %s [%s%s%s]", prefix, what, ep, hex(address),
                        (flags & ViommuWire.FAULT_F_READ) != 0 ? "R" : "",
                        (flags & ViommuWire.FAULT_F_WRITE) != 0 ? "W" : "",
                        (flags & ViommuWire.FAULT_F_EXEC) != 0 ? "X" : "");
            } else {
                log.err("%s%s fault from EP %s", prefix, what, ep);
            }
        }
        if (sink != null) {
            sink.fault(endpoint, address, flags);
        }
    }

    private Ratelimit ratelimit(String site) {
        return log.ratelimitState("viommu_fault_handler", site, Ratelimit.DEFAULT_RATELIMIT_INTERVAL_NS,
                Ratelimit.DEFAULT_RATELIMIT_BURST);
    }

    /** C's {@code %#llx}: {@code 0x} and lower-case hex, but a bare {@code 0} for zero. */
    static String hex(long value) {
        return value == 0 ? "0" : "0x" + Long.toHexString(value).toLowerCase(Locale.ROOT);
    }
}
