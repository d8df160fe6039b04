package dev.iommulab.hw.pci;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * One memory request of a function that the IOMMU performed: memory at {@code pa} was read or written. Told to
 * the listeners of {@link PcieEndpoint#addMemoryAccessListener} at the instant the IOMMU performed it (for a read,
 * not when its completion later reaches the function), so an observer can compare it with the mappings in force
 * at that instant.
 *
 * @param rid        requester ID of the function
 * @param pasid      the PASID the request carried, or -1 without one
 * @param va         the address the work item used for these bytes (its own address space: the process's virtual
 *                   address with a PASID, the IOVA without), whether or not the request went out translated
 * @param pa         the physical address the IOMMU reached
 * @param length     bytes accessed (within one 4 KiB page)
 * @param access     read (also descriptor fetches), write or exec
 * @param translated whether the request was a Translated request (address from the function's ATC)
 */
public record MemoryAccess(int rid, int pasid, long va, long pa, int length, Access access, boolean translated) {

    public MemoryAccess {
        Objects.requireNonNull(access, "access");
        if (pa < 0 || length <= 0) {
            throw new IllegalArgumentException("a memory access has a physical address and a length");
        }
    }
}
