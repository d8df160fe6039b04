package dev.iommulab.core;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.BitSet;

/**
 * The system-wide PASID space (the {@code iommu_global_pasid_ida} behind iommu_alloc_global_pasid() and
 * iommu_free_global_pasid() in iommu.c): the lowest free PASID in {@code [1, dev.max_pasids - 1]}.
 */
public final class GlobalPasidAllocator {

    private final BitSet used = new BitSet();

    /**
     * Counterpart of iommu_alloc_global_pasid().
     *
     * @throws KernelException ENOSPC when the device has no PASID support or its range is exhausted
     */
    public int alloc(Device dev) {
        int max = dev.maxPasids();
        if (max == 0) {
            throw new KernelException(Errno.ENOSPC, "dev", dev + " has no PASID support");
        }
        int pasid = used.nextClearBit(IommuCore.IOMMU_NO_PASID + 1);
        if (pasid > max - 1) {
            throw new KernelException(Errno.ENOSPC, "dev", "no free PASID below " + max + " for " + dev);
        }
        used.set(pasid);
        return pasid;
    }

    /** Counterpart of iommu_free_global_pasid(). */
    public void free(int pasid) {
        if (pasid <= IommuCore.IOMMU_NO_PASID || !used.get(pasid)) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " is not allocated");
        }
        used.clear(pasid);
    }

    public boolean isAllocated(int pasid) {
        return pasid > 0 && used.get(pasid);
    }
}
