package dev.iommulab.hw.iommu;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * A memory request from a function. Writes are posted (the function sees no completion); reads and
 * exec fetches are non-posted.
 *
 * @param data what to write (writes only; its length is the request length)
 * @param length bytes to read (reads only)
 */
public record DmaRequest(int rid, AddressType addressType, boolean pasidPresent, int pasid, long addr,
                         int length, Access access, boolean priv, WriteData data) {

    public DmaRequest {
        Objects.requireNonNull(addressType, "addressType");
        Objects.requireNonNull(access, "access");
        if (access == Access.WRITE && (data == null || data.length() != length)) {
            throw new IllegalArgumentException("a write carries exactly length bytes of data");
        }
        if (length <= 0 || (addr & ~0xfffL) != ((addr + length - 1) & ~0xfffL)) {
            throw new IllegalArgumentException("a DMA request stays within one 4 KiB page");
        }
    }
}
