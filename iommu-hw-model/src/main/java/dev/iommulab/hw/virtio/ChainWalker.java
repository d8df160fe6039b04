package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.ArrayList;
import java.util.List;

/**
 * The device's walk of one descriptor chain (virtio 1.x §2.7.5 The Virtqueue Descriptor Table, §2.7.5.3
 * Indirect Descriptors), with the checks QEMU's {@code virtqueue_split_pop()} makes while it maps each buffer.
 *
 * <p>A chain is zero or more direct descriptors, optionally ending in one {@code INDIRECT} descriptor (the spec
 * makes the device accept that, §2.7.5.3.2; QEMU follows {@code INDIRECT} only on the head). Inside the indirect
 * table the chain starts at entry 0. Each part may hold at most as many descriptors as its table: one more is a
 * loop. Readable buffers come before writable ones across both parts. The {@code WRITE} flag of the descriptor
 * that refers to the table is ignored, as the spec requires.
 */
final class ChainWalker {

    private final PhysicalMemory memory;
    private final List<Segment> readable = new ArrayList<>();
    private final List<Segment> writable = new ArrayList<>();
    private PopResult.Malformed error;

    private ChainWalker(PhysicalMemory memory) {
        this.memory = memory;
    }

    /** Walks the chain at {@code head} (below the queue size) of a descriptor table that lies in memory. */
    static PopResult walk(PhysicalMemory memory, VirtqueueLayout layout, int head) {
        ChainWalker w = new ChainWalker(memory);
        PopResult.Malformed error = w.walkDirect(layout, head);
        return error != null ? error : new PopResult.Popped(new DescriptorChain(head, w.readable, w.writable));
    }

    private PopResult.Malformed walkDirect(VirtqueueLayout layout, int head) {
        int size = layout.size();
        int i = head;
        for (int entries = 1;; entries++) {
            Descriptor d = Descriptor.read(memory, layout.desc(i));
            if (d.has(Virtq.DESC_F_INDIRECT)) {
                return d.has(Virtq.DESC_F_NEXT) ? malformed(ChainError.INDIRECT_WITH_NEXT, i) : walkIndirect(d);
            }
            if (!take(d)) {
                return error;
            }
            if (entries > size) {
                return malformed(ChainError.LOOPED_DESCRIPTOR);
            }
            if (!d.has(Virtq.DESC_F_NEXT)) {
                return null;
            }
            if (d.next() >= size) {
                return malformed(ChainError.NEXT_OUT_OF_RANGE, d.next());
            }
            i = d.next();
        }
    }

    private PopResult.Malformed walkIndirect(Descriptor table) {
        if (table.len() == 0 || table.len() % Virtq.DESC_SIZE != 0) {
            return malformed(ChainError.INDIRECT_BAD_SIZE);
        }
        if (!memory.contains(table.addr(), table.len())) {
            return malformed(ChainError.INDIRECT_NOT_MAPPABLE);
        }
        long max = table.len() / Virtq.DESC_SIZE;
        int i = 0;
        for (long entries = 1;; entries++) {
            Descriptor d = Descriptor.read(memory, table.addr() + (long) Virtq.DESC_SIZE * i);
            if (d.has(Virtq.DESC_F_INDIRECT)) {
                return malformed(ChainError.NESTED_INDIRECT, i);
            }
            if (!take(d)) {
                return error;
            }
            if (entries > max) {
                return malformed(ChainError.LOOPED_DESCRIPTOR);
            }
            if (!d.has(Virtq.DESC_F_NEXT)) {
                return null;
            }
            if (d.next() >= max) {
                return malformed(ChainError.NEXT_OUT_OF_RANGE, d.next());
            }
            i = d.next();
        }
    }

    /** Maps one buffer, as QEMU's {@code virtqueue_map_desc()} does; false with {@link #error} set if it cannot. */
    private boolean take(Descriptor d) {
        boolean write = d.has(Virtq.DESC_F_WRITE);
        if (!write && !writable.isEmpty()) {
            error = malformed(ChainError.WRONG_ORDER);
        } else if (d.len() == 0) {
            error = malformed(ChainError.ZERO_SIZED_BUFFER);
        } else if (!memory.contains(d.addr(), d.len())) {
            error = malformed(ChainError.BOGUS_DESCRIPTOR);
        } else {
            (write ? writable : readable).add(new Segment(d.addr(), d.len()));
            return true;
        }
        return false;
    }

    private static PopResult.Malformed malformed(ChainError error, Object... args) {
        return new PopResult.Malformed(error, error.message(args));
    }
}
