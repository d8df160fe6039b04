package dev.iommulab.sva;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.mm.MmStruct;

/** {@code struct iommu_sva}: one binding of a device to an mm, counted for nested binds. */
public final class SvaHandle {

    private final AttachHandle handle;
    private final Device dev;
    private final MmStruct mm;
    private final int pasid;
    int users;

    SvaHandle(AttachHandle handle, Device dev, MmStruct mm, int pasid) {
        this.handle = handle;
        this.dev = dev;
        this.mm = mm;
        this.pasid = pasid;
        this.users = 1;
    }

    public AttachHandle attachHandle() {
        return handle;
    }

    public Device device() {
        return dev;
    }

    public MmStruct mm() {
        return mm;
    }

    /** Counterpart of iommu_sva_get_pasid(). */
    public int pasid() {
        return pasid;
    }

    public int users() {
        return users;
    }
}
