package dev.iommulab.hw.pci;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * One DMA work item of a function: access {@code [addr, addr + size)}.
 *
 * @param pasid the PASID to tag requests with, or -1 for none (RID only)
 * @param data  bytes to write (writes only; length == size)
 */
public record DmaJob(long addr, int size, Access access, int pasid, boolean privileged, byte[] data) {

    public DmaJob {
        Objects.requireNonNull(access, "access");
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive: " + size);
        }
        if (access == Access.WRITE && (data == null || data.length != size)) {
            throw new IllegalArgumentException("a write job needs exactly size bytes of data");
        }
    }
}
