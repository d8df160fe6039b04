package dev.iommulab.vfio;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import java.util.TreeMap;

/**
 * A device bound to the context ({@code struct iommufd_device}): its id is the {@code dev_id} of fault records. VFIO
 * holds one reference while bound, so IOMMU_DESTROY cannot remove it. {@link #attached} maps each PASID
 * ({@code IOMMU_NO_PASID} for the RID) to the HWPT and the attach handle there ({@code igroup->pasid_attach}).
 */
final class IommufdDevice extends IommufdObject {

    /** One attachment: the HWPT and the {@code iommufd_attach_handle} published in the group. */
    record Attach(Hwpt hwpt, AttachHandle handle) {
    }

    final Device dev;
    final TreeMap<Integer, Attach> attached = new TreeMap<>();

    IommufdDevice(Device dev) {
        super("DEVICE");
        this.dev = dev;
        get(); // the VFIO device's reference, dropped at unbind
    }

    /** iommufd_device_destroy(): the group's DMA ownership goes back (done by the context, which has the core). */
    @Override
    void destroy() {
    }
}
