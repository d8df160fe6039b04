package dev.iommulab.hw.pci;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * One DMA work item of a function: access {@code [addr, addr + size)}, optionally after fetching its
 * descriptor from a ring in host memory. A work item may be of any length whose end fits a {@code long}; the
 * engine goes through it page by page and holds one chunk of its bytes at a time, except the bytes of a read kept
 * for the outcome ({@code keepsReadData}).
 *
 * @param pasid          the PASID to tag requests with, or -1 for none (RID only)
 * @param payload        the bytes to write (writes only; {@code payload.size() == size})
 * @param keepsReadData  whether a successful read hands its bytes to {@link DmaOutcome#data()} (then the read is at
 *                       most {@link #MAX_KEPT_READ} bytes); else the outcome carries none
 * @param descriptorAddr address of the descriptor the function reads first (same PASID), or -1 for none
 * @param descriptorSize bytes of the descriptor (0 when there is none; it stays within one 4 KiB page)
 */
public record DmaJob(long addr, long size, Access access, int pasid, boolean privileged, DmaPayload payload,
                     boolean keepsReadData, long descriptorAddr, int descriptorSize) {

    /** The longest read whose bytes a work item can keep for its outcome: the longest Java array. */
    public static final long MAX_KEPT_READ = Integer.MAX_VALUE - 8;

    public DmaJob {
        Objects.requireNonNull(access, "access");
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        try {
            Math.addExact(addr, size);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(String.format("%#x + %#x overflows", addr, size), e);
        }
        if (access == Access.WRITE && (payload == null || payload.size() != size)) {
            throw new IllegalArgumentException("a write job needs exactly size bytes of data");
        }
        if (keepsReadData && access != Access.WRITE && size > MAX_KEPT_READ) {
            throw new IllegalArgumentException("a read that keeps its bytes is at most " + MAX_KEPT_READ
                    + " bytes: " + size);
        }
        if (descriptorAddr < 0 ? descriptorSize != 0
                : descriptorSize <= 0 || (descriptorAddr & 0xfff) + descriptorSize > 4096) {
            throw new IllegalArgumentException("a descriptor needs a size of 1..4096 bytes within one page");
        }
    }

    /** A work item without a descriptor fetch that writes {@code data} or keeps the bytes it reads. */
    public DmaJob(long addr, long size, Access access, int pasid, boolean privileged, byte[] data) {
        this(addr, size, access, pasid, privileged, data == null ? null : DmaPayload.of(data), true, -1, 0);
    }

    /**
     * A work item without a descriptor fetch whose memory use does not grow with {@code size}: a write takes its
     * bytes from {@code payload} chunk by chunk, a read keeps none of its bytes ({@code payload} null).
     */
    public static DmaJob streaming(long addr, long size, Access access, int pasid, boolean privileged,
                                   DmaPayload payload) {
        return new DmaJob(addr, size, access, pasid, privileged, payload, false, -1, 0);
    }

    /** The same work item, preceded by a read of {@code bytes} of descriptor at {@code ringAddr}. */
    public DmaJob withDescriptor(long ringAddr, int bytes) {
        return new DmaJob(addr, size, access, pasid, privileged, payload, keepsReadData, ringAddr, bytes);
    }

    public boolean hasDescriptor() {
        return descriptorAddr >= 0;
    }
}
