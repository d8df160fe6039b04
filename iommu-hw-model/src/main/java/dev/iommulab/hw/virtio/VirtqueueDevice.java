package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Objects;

/**
 * The device side of one split virtqueue (virtio 1.x §2.7 Split Virtqueues, §2.7.13 Supplying Buffers to The
 * Device seen from the other end, §2.7.8 The Virtqueue Used Ring): takes the next available chain
 * ({@link #pop()}), returns it with the number of bytes written ({@link #push}), and decides whether the driver
 * wants to be told ({@link #needsNotification()}), as QEMU's {@code virtqueue_split_pop()},
 * {@code virtqueue_fill()}/{@code virtqueue_flush()} and {@code virtio_split_should_notify()} do.
 *
 * <p>Guest data never makes it throw: a malformed ring or chain is a {@link PopResult.Malformed}; the queue is then
 * broken ({@link #broken()}), pops nothing and pushes nothing until {@link #reset()}, and the device model sets
 * {@link VirtioStatus#DEVICE_NEEDS_RESET} (QEMU's {@code virtio_error()} breaks every queue of the device: the
 * device model applies that to its other queues). What it writes to guest memory: the used elements and
 * {@code used.idx}, and with {@code VIRTIO_F_EVENT_IDX} {@code avail_event} after each chain it accepts (QEMU
 * writes it before walking the chain; here a refused chain leaves the used ring untouched). No
 * {@code VIRTIO_F_NOTIFY_ON_EMPTY}: a modern device does not offer it.
 */
public final class VirtqueueDevice {

    private static final PopResult EMPTY = new PopResult.Empty();
    private static final PopResult BROKEN = new PopResult.Broken();

    private final PhysicalMemory memory;
    private final VirtqueueLayout layout;
    private final boolean eventIdx;
    private int lastAvailIdx;
    private int usedIdx;
    private int inUse;
    private int signalledUsed;
    private boolean signalledUsedValid;
    private ChainError error;

    /**
     * @param eventIdx whether {@code VIRTIO_F_EVENT_IDX} (bit 29) was negotiated
     */
    public VirtqueueDevice(PhysicalMemory memory, VirtqueueLayout layout, boolean eventIdx) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.layout = Objects.requireNonNull(layout, "layout");
        this.eventIdx = eventIdx;
    }

    public VirtqueueLayout layout() {
        return layout;
    }

    /**
     * The next available chain, walked and checked: reads {@code avail.idx}, then the head at the device's
     * position (which moves on before the head is checked, as in QEMU), then every descriptor of the chain.
     */
    public PopResult pop() {
        if (error != null) {
            return BROKEN;
        }
        int size = layout.size();
        if (!memory.contains(layout.availAddr(), VirtqueueLayout.availRingBytes(size))
                || !memory.contains(layout.usedAddr(), VirtqueueLayout.usedRingBytes(size))) {
            return fail(ChainError.RING_NOT_MAPPABLE);
        }
        int availIdx = Virtq.readU16(memory, layout.availIdx());
        int pending = (availIdx - lastAvailIdx) & 0xffff;
        if (pending > size) {
            return fail(ChainError.AVAIL_IDX_JUMP, lastAvailIdx, availIdx);
        }
        if (pending == 0) {
            return EMPTY;
        }
        if (inUse >= size) {
            return fail(ChainError.SIZE_EXCEEDED);
        }
        int head = Virtq.readU16(memory, layout.availRing(lastAvailIdx));
        lastAvailIdx = (lastAvailIdx + 1) & 0xffff;
        if (head >= size) {
            return fail(ChainError.HEAD_OUT_OF_RANGE, head);
        }
        if (!memory.contains(layout.descAddr(), VirtqueueLayout.descTableBytes(size))) {
            return fail(ChainError.DESC_TABLE_NOT_MAPPABLE);
        }
        PopResult result = ChainWalker.walk(memory, layout, head);
        if (result instanceof PopResult.Malformed m) {
            return fail(m);
        }
        inUse++;
        if (eventIdx) {
            Virtq.writeU16(memory, layout.availEvent(), lastAvailIdx);
        }
        return result;
    }

    /**
     * Returns a popped chain: writes {@code used.ring[used.idx % size] = {head, written}}, then the new
     * {@code used.idx} (the length before the index, §2.7.8.2). Does nothing on a broken queue.
     *
     * @param written bytes the device wrote into the chain's writable segments, from the first
     * @return whether the element was published
     * @throws IllegalArgumentException when {@code written} exceeds the writable bytes (a device never
     *                                  over-reports) — an error of the device model, not of the guest
     */
    public boolean push(DescriptorChain chain, long written) {
        if (written < 0 || written > chain.writableBytes()) {
            throw new IllegalArgumentException("written " + written + " of " + chain.writableBytes() + " bytes");
        }
        if (inUse == 0) {
            throw new IllegalStateException("no chain in use");
        }
        if (error != null) {
            return false;
        }
        long elem = layout.usedElem(usedIdx);
        memory.writeInt(elem, chain.head());
        memory.writeInt(elem + 4, (int) written);
        int old = usedIdx;
        usedIdx = (usedIdx + 1) & 0xffff;
        Virtq.writeU16(memory, layout.usedIdx(), usedIdx);
        inUse--;
        if (((usedIdx - signalledUsed) & 0xffff) < ((usedIdx - old) & 0xffff)) {
            signalledUsedValid = false; // used.idx went all the way round since the last decision
        }
        return true;
    }

    /**
     * Whether to interrupt the driver for what was pushed since the last call: without event index, unless the
     * driver set {@code VIRTQ_AVAIL_F_NO_INTERRUPT}; with it, when {@code used_event} was crossed (and always the
     * first time), as QEMU's {@code virtio_split_should_notify()} decides.
     */
    public boolean needsNotification() {
        if (error != null) {
            return false;
        }
        if (!eventIdx) {
            return (Virtq.readU16(memory, layout.availFlags()) & Virtq.AVAIL_F_NO_INTERRUPT) == 0;
        }
        boolean valid = signalledUsedValid;
        int old = signalledUsed;
        signalledUsedValid = true;
        signalledUsed = usedIdx;
        return !valid || Virtq.needEvent(Virtq.readU16(memory, layout.usedEvent()), usedIdx, old);
    }

    /**
     * Asks the driver to kick (or not) when it adds buffers: {@code VIRTQ_USED_F_NO_NOTIFY} in {@code used.flags},
     * or with event index {@code avail_event} set to the current {@code avail.idx}, as QEMU's
     * {@code virtio_queue_split_set_notification()} does. Does nothing on a broken queue.
     */
    public void setNotification(boolean enable) {
        if (error != null) {
            return;
        }
        if (eventIdx) {
            if (enable) {
                Virtq.writeU16(memory, layout.availEvent(), Virtq.readU16(memory, layout.availIdx()));
            }
        } else {
            int flags = Virtq.readU16(memory, layout.usedFlags());
            Virtq.writeU16(memory, layout.usedFlags(),
                    enable ? flags & ~Virtq.USED_F_NO_NOTIFY : flags | Virtq.USED_F_NO_NOTIFY);
        }
    }

    /** The device reset: positions back to 0, nothing in use, not broken. Guest memory is not touched. */
    public void reset() {
        lastAvailIdx = 0;
        usedIdx = 0;
        inUse = 0;
        signalledUsed = 0;
        signalledUsedValid = false;
        error = null;
    }

    public boolean broken() {
        return error != null;
    }

    /** The error that broke the queue, or null. */
    public ChainError error() {
        return error;
    }

    /** The device's position in the available ring (QEMU's {@code last_avail_idx}). */
    public int lastAvailIdx() {
        return lastAvailIdx;
    }

    /** The next {@code used.idx} slot. */
    public int usedIdx() {
        return usedIdx;
    }

    /** Chains popped and not yet pushed. */
    public int inUse() {
        return inUse;
    }

    private PopResult fail(ChainError e, Object... args) {
        return fail(new PopResult.Malformed(e, e.message(args)));
    }

    private PopResult fail(PopResult.Malformed m) {
        error = m.error();
        return m;
    }
}
