package dev.iommulab.drivers.virtio;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.viommu.ViommuRequest;
import dev.iommulab.hw.viommu.ViommuStatus;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.hw.virtio.Segment;
import dev.iommulab.hw.virtio.VirtqueueDriver;
import dev.iommulab.hw.virtio.VirtqueueLayout;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The request virtqueue as drivers/iommu/virtio-iommu.c drives it: {@code __viommu_add_req()} copies the request into
 * a buffer of its own (guest memory here) and adds it as one readable and one writable segment, syncing and retrying
 * once when the ring is full; {@code __viommu_sync_req()} kicks and spins until the device has returned every
 * request, copying the writable part back to the caller only when the used length is exactly its length. So a
 * device that returns a request unwritten (used length 0) leaves the caller's zeroed tail in place, and the request
 * reads as OK — the driver's own quirk, kept.
 *
 * <p>The simulation cannot spin: the wait runs the event loop until the requests are back. When they never come
 * back (the device stopped) the guest CPU is stuck there in Linux; here the requests are abandoned with the status
 * IOERR and {@link #hung()} is set, so the lab can show where the guest would hang.
 */
final class RequestQueue {

    /** One request in flight ({@code struct viommu_request}); {@code writeback} is the caller's writable part. */
    private record Request(long buffer, int writeOffset, int len, byte[] writeback) {
    }

    private final VirtioIommu device;
    private final VirtqueueDriver<Request> vq;
    private final FrameAllocator frames;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    /** Bytes of one request buffer: enough for the largest request, a PROBE of 76 bytes + probe_size. */
    private final int slotBytes;
    private final Deque<Long> freeSlots = new ArrayDeque<>();
    /** {@code viommu->requests}: added and not yet taken back. */
    private final List<Request> requests = new ArrayList<>();
    private boolean hung;

    RequestQueue(VirtioIommu device, VirtqueueLayout layout, boolean eventIdx, FrameAllocator frames, EventLoop loop,
                 int probeSize) {
        this.device = device;
        this.memory = frames.memory();
        this.vq = VirtqueueDriver.create(memory, layout, eventIdx);
        this.frames = frames;
        this.loop = loop;
        if (probeSize < 0 || probeSize > PhysicalMemory.PAGE_SIZE - 80) {
            throw new KernelException(Errno.EINVAL, "probe_size", "probe_size " + Integer.toUnsignedString(probeSize)
                    + ": a PROBE must fit in a page");
        }
        this.slotBytes = Math.max(64, Integer.highestOneBit(76 + probeSize - 1) << 1);
    }

    /** The requests added and not yet returned by the device (queued, or sent and not answered), oldest first. */
    List<ViommuRequest> pending() {
        return requests.stream().map(r -> ViommuRequest.decode(memory.read(r.buffer(), r.writeOffset()))).toList();
    }

    /** Whether a synchronous request never came back: the guest would be spinning in __viommu_sync_req(). */
    boolean hung() {
        return hung;
    }

    /**
     * Counterpart of viommu_send_req_sync(): adds {@code readable} and {@code writable} zero bytes, syncs, and returns
     * the errno of the tail as the caller sees it afterwards; {@code out} (of {@code writable} bytes, or null) gets the
     * writable part the same way.
     */
    int sendSync(byte[] readable, int writable, byte[] out) {
        byte[] writeback = out != null ? out : new byte[writable];
        add(readable, writable, writeback);
        sync();
        return errno(writeback);
    }

    /** Counterpart of viommu_add_req(): queues a request with a 4-byte tail; its status is never looked at. */
    void add(byte[] readable) {
        add(readable, ViommuWire.TAIL_BYTES, null);
    }

    private void add(byte[] readable, int writable, byte[] writeback) {
        int len = readable.length + writable;
        long buffer = slot(len);
        memory.write(buffer, readable);
        memory.zero(buffer + readable.length, writable);
        Request req = new Request(buffer, readable.length, len, writeback);
        List<Segment> out = List.of(new Segment(buffer, readable.length));
        List<Segment> in = List.of(new Segment(buffer + readable.length, writable));
        if (vq.addSgs(out, in, req).isEmpty()) {
            sync(); // the ring is full: sync and retry once
            if (vq.addSgs(out, in, req).isEmpty()) {
                freeSlots.push(buffer);
                throw new KernelException(Errno.ENOSPC, "vq", "request queue full");
            }
        }
        requests.add(req);
    }

    /** Counterpart of __viommu_sync_req(): kick, then take back every request in flight. */
    void sync() {
        if (requests.isEmpty()) {
            return;
        }
        if (vq.kickPrepare()) {
            device.notify(ViommuWire.REQUEST_QUEUE);
        }
        boolean back = loop.runUntil(() -> {
            for (var used = vq.getBuf(); used.isPresent(); used = vq.getBuf()) {
                complete(used.get().token(), used.get().len());
            }
            return requests.isEmpty();
        });
        if (!back) {
            hung = true;
            for (Request req : requests) {
                if (req.writeback() != null) {
                    req.writeback()[req.writeback().length - ViommuWire.TAIL_BYTES] =
                            (byte) ViommuStatus.IOERR.code();
                }
            }
            requests.clear();
        }
    }

    private void complete(Request req, long usedLen) {
        int writeLen = req.len() - req.writeOffset();
        if (usedLen == 0) {
            memory.writeByte(req.buffer() + req.len() - ViommuWire.TAIL_BYTES, (byte) ViommuStatus.IOERR.code());
        }
        if (req.writeback() != null && usedLen == writeLen) {
            System.arraycopy(memory.read(req.buffer() + req.writeOffset(), writeLen), 0, req.writeback(), 0,
                    writeLen);
        }
        freeSlots.push(req.buffer());
        requests.remove(req);
    }

    /** A request buffer of {@code len} bytes: 4 KiB frames cut into slots, reused ({@code kzalloc()}). */
    private long slot(int len) {
        if (len > slotBytes) {
            throw new KernelException(Errno.EINVAL, "len", "request of " + len + " bytes");
        }
        if (freeSlots.isEmpty()) {
            long frame = frames.allocate();
            for (long at = frame + PhysicalMemory.PAGE_SIZE - slotBytes; at >= frame; at -= slotBytes) {
                freeSlots.push(at);
            }
        }
        return freeSlots.pop();
    }

    /** Counterpart of viommu_get_req_errno(): 0 or the negative errno of the tail's status (the last four bytes). */
    static int errno(byte[] writable) {
        ViommuStatus s = ViommuStatus.of(writable[writable.length - ViommuWire.TAIL_BYTES] & 0xff);
        Errno e = s == null ? Errno.EIO : switch (s) {
            case OK -> null;
            case UNSUPP -> Errno.ENOSYS;
            case INVAL -> Errno.EINVAL;
            case RANGE -> Errno.ERANGE;
            case NOENT -> Errno.ENOENT;
            case FAULT -> Errno.EFAULT;
            case NOMEM -> Errno.ENOMEM;
            default -> Errno.EIO;
        };
        return e == null ? 0 : e.negative();
    }
}
