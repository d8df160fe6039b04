package dev.iommulab.hw.pci;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * One DMA work item of a function: access {@code [addr, addr + size)}, optionally after fetching its
 * descriptor from a ring in host memory.
 *
 * @param pasid          the PASID to tag requests with, or -1 for none (RID only)
 * @param data           bytes to write (writes only; length == size)
 * @param descriptorAddr address of the descriptor the function reads first (same PASID), or -1 for none
 * @param descriptorSize bytes of the descriptor (0 when there is none; it stays within one 4 KiB page)
 */
public record DmaJob(long addr, int size, Access access, int pasid, boolean privileged, byte[] data,
                     long descriptorAddr, int descriptorSize) {

    public DmaJob {
        Objects.requireNonNull(access, "access");
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        if (access == Access.WRITE && (data == null || data.length != size)) {
            throw new IllegalArgumentException("a write job needs exactly size bytes of data");
        }
        if (descriptorAddr < 0 ? descriptorSize != 0
                : descriptorSize <= 0 || (descriptorAddr & 0xfff) + descriptorSize > 4096) {
            throw new IllegalArgumentException("a descriptor needs a size of 1..4096 bytes within one page");
        }
    }

    /** A work item without a descriptor fetch. */
    public DmaJob(long addr, int size, Access access, int pasid, boolean privileged, byte[] data) {
        this(addr, size, access, pasid, privileged, data, -1, 0);
    }

    /** The same work item, preceded by a read of {@code bytes} of descriptor at {@code ringAddr}. */
    public DmaJob withDescriptor(long ringAddr, int bytes) {
        return new DmaJob(addr, size, access, pasid, privileged, data, ringAddr, bytes);
    }

    public boolean hasDescriptor() {
        return descriptorAddr >= 0;
    }
}
