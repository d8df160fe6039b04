package dev.iommulab.hw.virtio;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.List;

/**
 * A descriptor chain as the device sees it after the walk: the head index it will return in the used ring, the
 * device-readable segments, then the device-writable ones (QEMU's {@code VirtQueueElement} with {@code out_sg}
 * and {@code in_sg}). Every segment lies in guest memory and is not empty: the walk checked it.
 *
 * @param head     index of the chain's first descriptor in the descriptor table
 * @param readable device-readable segments, in chain order
 * @param writable device-writable segments, in chain order
 */
public record DescriptorChain(int head, List<Segment> readable, List<Segment> writable) {

    public DescriptorChain {
        readable = List.copyOf(readable);
        writable = List.copyOf(writable);
    }

    public long readableBytes() {
        return readable.stream().mapToLong(Segment::len).sum();
    }

    public long writableBytes() {
        return writable.stream().mapToLong(Segment::len).sum();
    }

    /**
     * The bytes of the readable segments, concatenated, at most {@code max} of them (a device reads a request of
     * a known size and need not assume how the driver split it, virtio 1.x §2.7.4.1).
     */
    public byte[] gather(PhysicalMemory memory, int max) {
        int n = (int) Math.min(max, readableBytes());
        byte[] out = new byte[n];
        int done = 0;
        for (Segment s : readable) {
            if (done == n) {
                break;
            }
            int part = (int) Math.min(s.len(), n - done);
            System.arraycopy(memory.read(s.addr(), part), 0, out, done, part);
            done += part;
        }
        return out;
    }

    /**
     * Writes {@code data} across the writable segments from the first; returns the bytes written, fewer than
     * {@code data.length} when the segments are shorter (the length to report in the used ring).
     */
    public int scatter(PhysicalMemory memory, byte[] data) {
        int done = 0;
        for (Segment s : writable) {
            if (done == data.length) {
                break;
            }
            int part = (int) Math.min(s.len(), data.length - done);
            byte[] slice = new byte[part];
            System.arraycopy(data, done, slice, 0, part);
            memory.write(s.addr(), slice);
            done += part;
        }
        return done;
    }
}
