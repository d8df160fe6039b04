package dev.iommulab.vfio;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.function.Consumer;

/**
 * The attach side of iommufd/device.c (iommufd_device_change_pt(), the body attach and replace share): what {@code pt_id} names (an IOAS or a HWPT), and for an IOAS the
 * automatic paging HWPT ({@code iommufd_device_auto_get_domain()}), before {@link Attachments} attaches or
 * replaces.
 */
final class DeviceAttach {

    private final IommuCore core;
    private final ObjectTable objects;
    private final Attachments attachments;
    private final Consumer<Hwpt> release;

    DeviceAttach(IommuCore core, ObjectTable objects, Attachments attachments, Consumer<Hwpt> release) {
        this.core = core;
        this.objects = objects;
        this.attachments = attachments;
        this.release = release;
    }

    /**
     * Attaches (or with {@code replace}, replaces with) {@code ptId} at {@code pasid} of {@code idev}.
     *
     * @return the HWPT id now attached
     * @throws KernelException ENOENT for a bad {@code ptId}; EINVAL for an object that is not an IOAS or HWPT
     */
    int attach(IommufdDevice idev, int pasid, int ptId, boolean replace) {
        IommufdObject pt = pageTable(ptId);
        if (pt instanceof Hwpt hwpt) {
            attachOrReplace(idev, pasid, hwpt, replace);
            return hwpt.id();
        }
        return autoAttach(idev, pasid, (Ioas) pt, replace);
    }

    private IommufdObject pageTable(int ptId) {
        IommufdObject pt = objects.find(ptId);
        if (pt == null) {
            throw new KernelException(Errno.ENOENT, "pt_id", "no object " + ptId);
        }
        if (!(pt instanceof Ioas) && !(pt instanceof Hwpt)) {
            throw new KernelException(Errno.EINVAL, "pt_id", pt + " is not an IOAS or a HWPT");
        }
        return pt;
    }

    /**
     * iommufd_device_auto_get_domain(): an automatic HWPT of {@code ioas} from this driver that takes the device,
     * else a new one (PASID compatible when attached at a PASID), destroyed again if the attach fails.
     */
    private int autoAttach(IommufdDevice idev, int pasid, Ioas ioas, boolean replace) {
        for (IommufdObject obj : objects.all()) {
            if (obj instanceof Hwpt h && h.autoDomain && h.ioas == ioas && h.domain.owner() == idev.dev.ops()
                    && (pasid == IommuCore.IOMMU_NO_PASID || h.pasidCompat)) {
                try {
                    attachOrReplace(idev, pasid, h, replace);
                    return h.id();
                } catch (KernelException e) {
                    if (e.errno() != Errno.EINVAL) {
                        throw e;
                    }
                }
            }
        }
        Hwpt hwpt = objects.add(HwptAlloc.paging(core, idev, ioas,
                pasid == IommuCore.IOMMU_NO_PASID ? 0 : Iommufd.HWPT_ALLOC_PASID, null, true));
        try {
            attachOrReplace(idev, pasid, hwpt, replace);
        } catch (KernelException e) {
            release.accept(hwpt);
            throw e;
        }
        return hwpt.id();
    }

    private void attachOrReplace(IommufdDevice idev, int pasid, Hwpt hwpt, boolean replace) {
        if (replace) {
            attachments.replace(idev, pasid, hwpt);
        } else {
            attachments.attach(idev, pasid, hwpt);
        }
    }
}
