package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The guest driver's side of one split virtqueue, as Linux's {@code drivers/virtio/virtio_ring.c} keeps it: lays
 * the queue out in guest memory, adds buffer chains ({@link #addSgs}), decides whether to kick
 * ({@link #kickPrepare()}) and takes used buffers back ({@link #getBuf()}) with the token given when each was added.
 *
 * <p>Free descriptors are chained through the driver's own {@code next} array and each descriptor's flags are kept
 * in the driver's own copy (Linux's {@code desc_extra}), so freeing a chain never trusts what the device could
 * have written. A used element that names no outstanding head breaks the queue as {@code BAD_RING()} does: the
 * message is kept and every later {@link #getBuf()} finds nothing.
 *
 * <p>With {@link #withIndirect}, a chain of more than one segment goes into an indirect table (one per head, so
 * tables of outstanding chains never overlap) and takes one descriptor of the ring. Unlike Linux, nothing kicks
 * on its own after 65535 additions: call {@link #kickPrepare()} at least that often.
 *
 * @param <T> the token returned with a used buffer (Linux's {@code data} pointer)
 */
public final class VirtqueueDriver<T> {

    /** A buffer the device returned: the token it was added with and the bytes the device says it wrote. */
    public record UsedBuffer<T>(T token, long len) {
    }

    private final PhysicalMemory memory;
    private final VirtqueueLayout layout;
    private final boolean eventIdx;
    private final int[] extraNext;
    private final int[] extraFlags;
    private final List<T> data;
    private long indirectArea;
    private int indirectMax;
    private int freeHead;
    private int numFree;
    private int availIdxShadow;
    private int numAdded;
    private int lastUsedIdx;
    private String brokenMessage;

    private VirtqueueDriver(PhysicalMemory memory, VirtqueueLayout layout, boolean eventIdx) {
        this.memory = memory;
        this.layout = layout;
        this.eventIdx = eventIdx;
        int size = layout.size();
        this.extraNext = new int[size];
        this.extraFlags = new int[size];
        this.data = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            extraNext[i] = i + 1;
            data.add(null);
        }
        this.numFree = size;
    }

    /**
     * A new, empty queue: zeroes its three parts in guest memory (the driver allocates them zeroed, as
     * {@code vring_alloc_queue_split()} does) and marks every descriptor free.
     *
     * @param eventIdx whether {@code VIRTIO_F_EVENT_IDX} (bit 29) was negotiated
     * @throws IllegalArgumentException when a part is misaligned or outside memory (the driver's own error)
     */
    public static <T> VirtqueueDriver<T> create(PhysicalMemory memory, VirtqueueLayout layout, boolean eventIdx) {
        Objects.requireNonNull(memory, "memory");
        if (!layout.aligned()) {
            throw new IllegalArgumentException("virtqueue parts must be aligned 16/2/4: " + layout);
        }
        int size = layout.size();
        zero(memory, layout.descAddr(), VirtqueueLayout.descTableBytes(size));
        zero(memory, layout.availAddr(), VirtqueueLayout.availRingBytes(size));
        zero(memory, layout.usedAddr(), VirtqueueLayout.usedRingBytes(size));
        return new VirtqueueDriver<>(memory, layout, eventIdx);
    }

    /**
     * Uses indirect tables ({@code VIRTIO_F_INDIRECT_DESC}) for chains of 2 to {@code maxEntries} segments, the
     * table of head {@code h} at {@code area + h·maxEntries·16}.
     */
    public VirtqueueDriver<T> withIndirect(long area, int maxEntries) {
        long bytes = (long) layout.size() * maxEntries * Virtq.DESC_SIZE;
        if (maxEntries < 2 || area % Virtq.DESC_ALIGN != 0 || !memory.contains(area, bytes)) {
            throw new IllegalArgumentException("bad indirect area " + area + " for " + maxEntries + " entries");
        }
        this.indirectArea = area;
        this.indirectMax = maxEntries;
        return this;
    }

    public VirtqueueLayout layout() {
        return layout;
    }

    /**
     * Adds a chain of the device-readable segments {@code out} followed by the device-writable {@code in} and
     * makes it available. Counterpart of virtqueue_add_sgs().
     *
     * @return the head descriptor's index, or empty when too few descriptors are free (Linux's {@code -ENOSPC})
     */
    public OptionalInt addSgs(List<Segment> out, List<Segment> in, T token) {
        Objects.requireNonNull(token, "token");
        int total = out.size() + in.size();
        if (total == 0) {
            throw new IllegalArgumentException("a chain needs at least one segment");
        }
        boolean indirect = indirectMax > 0 && total > 1 && total <= indirectMax && numFree > 0;
        if (numFree < (indirect ? 1 : total)) {
            return OptionalInt.empty();
        }
        int head = freeHead;
        if (indirect) {
            long table = indirectArea + (long) head * indirectMax * Virtq.DESC_SIZE;
            for (int j = 0; j < total; j++) {
                int flags = (j < total - 1 ? Virtq.DESC_F_NEXT : 0) | (j >= out.size() ? Virtq.DESC_F_WRITE : 0);
                Segment s = j < out.size() ? out.get(j) : in.get(j - out.size());
                new Descriptor(s.addr(), s.len(), flags, j + 1).write(memory, table + (long) Virtq.DESC_SIZE * j);
            }
            writeDesc(head, new Descriptor(table, (long) total * Virtq.DESC_SIZE, Virtq.DESC_F_INDIRECT,
                    extraNext[head]));
            freeHead = extraNext[head];
            numFree--;
        } else {
            int i = head;
            int prev = head;
            for (int j = 0; j < total; j++) {
                int flags = Virtq.DESC_F_NEXT | (j >= out.size() ? Virtq.DESC_F_WRITE : 0);
                Segment s = j < out.size() ? out.get(j) : in.get(j - out.size());
                writeDesc(i, new Descriptor(s.addr(), s.len(), flags, extraNext[i]));
                prev = i;
                i = extraNext[i];
            }
            extraFlags[prev] &= ~Virtq.DESC_F_NEXT;
            Virtq.writeU16(memory, layout.desc(prev) + 12, extraFlags[prev]);
            freeHead = i;
            numFree -= total;
        }
        data.set(head, token);
        Virtq.writeU16(memory, layout.availRing(availIdxShadow), head);
        availIdxShadow = (availIdxShadow + 1) & 0xffff;
        Virtq.writeU16(memory, layout.availIdx(), availIdxShadow);
        numAdded++;
        return OptionalInt.of(head);
    }

    /**
     * Whether the device wants a notification for the chains added since the last call: with event index when
     * {@code avail_event} was crossed, else unless the device set {@code VIRTQ_USED_F_NO_NOTIFY}.
     * Counterpart of virtqueue_kick_prepare().
     */
    public boolean kickPrepare() {
        int next = availIdxShadow;
        int old = (next - numAdded) & 0xffff;
        numAdded = 0;
        if (eventIdx) {
            return Virtq.needEvent(Virtq.readU16(memory, layout.availEvent()), next, old);
        }
        return (Virtq.readU16(memory, layout.usedFlags()) & Virtq.USED_F_NO_NOTIFY) == 0;
    }

    /** Whether the device has returned a buffer not yet taken. Counterpart of more_used_split(). */
    public boolean hasUsed() {
        return brokenMessage == null && Virtq.readU16(memory, layout.usedIdx()) != lastUsedIdx;
    }

    /**
     * The next used buffer and its token, freeing its descriptors; then {@code used_event} is set to the new
     * position, asking for an interrupt on the next one. Counterpart of virtqueue_get_buf().
     *
     * @return empty when nothing was returned, or when the queue is broken
     */
    public Optional<UsedBuffer<T>> getBuf() {
        if (!hasUsed()) {
            return Optional.empty();
        }
        long elem = layout.usedElem(lastUsedIdx);
        long id = Integer.toUnsignedLong(memory.readInt(elem));
        long len = Integer.toUnsignedLong(memory.readInt(elem + 4));
        if (id >= layout.size()) {
            return badRing("id " + id + " out of range");
        }
        T token = data.get((int) id);
        if (token == null) {
            return badRing("id " + id + " is not a head!");
        }
        detach((int) id);
        lastUsedIdx = (lastUsedIdx + 1) & 0xffff;
        Virtq.writeU16(memory, layout.usedEvent(), lastUsedIdx);
        return Optional.of(new UsedBuffer<>(token, len));
    }

    /** Descriptors free for new chains. */
    public int numFree() {
        return numFree;
    }

    public boolean broken() {
        return brokenMessage != null;
    }

    /** What {@code BAD_RING()} would log (without the queue name), or null. */
    public String brokenMessage() {
        return brokenMessage;
    }

    /** The driver's {@code avail.idx}. */
    public int availIdx() {
        return availIdxShadow;
    }

    /** The driver's position in the used ring ({@code last_used_idx}). */
    public int lastUsedIdx() {
        return lastUsedIdx;
    }

    /** Frees the chain at {@code head} from the driver's own flags and links. Counterpart of detach_buf_split(). */
    private void detach(int head) {
        data.set(head, null);
        int i = head;
        while ((extraFlags[i] & Virtq.DESC_F_NEXT) != 0) {
            i = extraNext[i];
            numFree++;
        }
        extraNext[i] = freeHead;
        freeHead = head;
        numFree++;
    }

    private void writeDesc(int index, Descriptor d) {
        extraFlags[index] = d.flags();
        d.write(memory, layout.desc(index));
    }

    private Optional<UsedBuffer<T>> badRing(String message) {
        brokenMessage = message;
        return Optional.empty();
    }

    private static void zero(PhysicalMemory memory, long pa, long bytes) {
        if (!memory.contains(pa, bytes)) {
            throw new IllegalArgumentException(String.format("virtqueue part [%#x, +%d) outside memory", pa, bytes));
        }
        memory.zero(pa, bytes);
    }
}
