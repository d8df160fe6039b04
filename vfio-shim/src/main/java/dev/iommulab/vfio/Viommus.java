package dev.iommulab.vfio;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;

/** The vIOMMU ioctls of iommufd/viommu.c and eventq.c on a context's objects; {@link Iommufd} checks it is open. */
final class Viommus {

    private final ObjectTable objects;

    Viommus(ObjectTable objects) {
        this.objects = objects;
    }

    /** See {@link Iommufd#viommuAlloc}. */
    int alloc(int devId, int hwptId, int flags, int type) {
        if (flags != 0 || type != Iommufd.VIOMMU_TYPE_DEFAULT) {
            throw new KernelException(Errno.EOPNOTSUPP, flags != 0 ? "flags" : "type", String.format(
                    "flags %#x type %d: only the core vIOMMU (type 0) here", flags, type));
        }
        objects.get(devId, IommufdDevice.class, "dev_id");
        Hwpt hwpt = objects.get(hwptId, Hwpt.class, "hwpt_id");
        if (hwpt.parent != null) {
            throw new KernelException(Errno.ENOENT, "hwpt_id", hwpt + " is not a paging HWPT");
        }
        if (!hwpt.nestParent) {
            throw new KernelException(Errno.EINVAL, "hwpt_id", hwpt + " is not a nest parent");
        }
        hwpt.get();
        return objects.add(new Viommu(hwpt, type)).id();
    }

    /** See {@link Iommufd#veventqAlloc}. */
    Iommufd.VeventqAlloc veventqAlloc(int viommuId, int flags, int type, int depth) {
        Viommu viommu = objects.get(viommuId, Viommu.class, "viommu_id");
        IommufdVeventq queue = viommu.veventqs.alloc(flags, type, depth);
        viommu.get();
        return new Iommufd.VeventqAlloc(objects.add(new VeventqObject(viommu, queue)).id(), queue);
    }

    /** See {@link Iommufd#viommuReportEvent}. */
    int reportEvent(int viommuId, int type, byte[] data) {
        return objects.get(viommuId, Viommu.class, "viommu_id").veventqs.reportEvent(type, data);
    }
}
