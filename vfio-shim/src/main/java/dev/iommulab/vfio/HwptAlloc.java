package dev.iommulab.vfio;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;

/** The two halves of IOMMU_HWPT_ALLOC: iommufd_hwpt_paging_alloc() and iommufd_hwpt_nested_alloc(). */
final class HwptAlloc {

    private HwptAlloc() {
    }

    /**
     * iommufd_hwpt_paging_alloc(): a paging domain from the device's driver (UNMANAGED; a second-stage nest parent
     * with NEST_PARENT), filled with every area of {@code ioas}; the HWPT holds the IOAS.
     */
    static Hwpt paging(IommuCore core, IommufdDevice idev, Ioas ioas, int flags, Iommufd.Stage1 stage1, boolean autoDomain) {
        int valid = Iommufd.HWPT_ALLOC_NEST_PARENT | Iommufd.HWPT_ALLOC_DIRTY_TRACKING | Iommufd.HWPT_FAULT_ID_VALID | Iommufd.HWPT_ALLOC_PASID;
        if ((flags & ~valid) != 0 || stage1 != null) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x%s", flags,
                    stage1 != null ? " with user data for a paging HWPT" : ""));
        }
        if ((flags & Iommufd.HWPT_FAULT_ID_VALID) != 0 && (flags & Iommufd.HWPT_ALLOC_NEST_PARENT) != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", "FAULT_ID_VALID with NEST_PARENT");
        }
        if ((flags & Iommufd.HWPT_ALLOC_DIRTY_TRACKING) != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", idev.dev + ": no IOMMU_CAP_DIRTY_TRACKING");
        }
        IommuDomain domain = core.domainAllocPaging(idev.dev, DomainType.UNMANAGED, flags & Iommufd.HWPT_ALLOC_NEST_PARENT);
        try {
            ioas.addDomain(domain);
        } catch (KernelException e) {
            domain.ops().free(domain);
            throw e;
        }
        ioas.get();
        return new Hwpt(domain, ioas, null, (flags & Iommufd.HWPT_ALLOC_NEST_PARENT) != 0, autoDomain,
                (flags & Iommufd.HWPT_ALLOC_PASID) != 0);
    }

    /**
     * iommufd_hwpt_nested_alloc(): a NESTED domain on a nest-parent HWPT from the guest's stage-1 table; the HWPT
     * holds its parent.
     */
    static Hwpt nested(IommuCore core, IommufdDevice idev, Hwpt parent, int flags, Iommufd.Stage1 stage1) {
        if ((flags & ~(Iommufd.HWPT_FAULT_ID_VALID | Iommufd.HWPT_ALLOC_PASID)) != 0 || stage1 == null) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", String.format("%#x%s", flags,
                    stage1 == null ? " without user data for a nested HWPT" : ""));
        }
        if (parent.autoDomain || !parent.nestParent) {
            throw new KernelException(Errno.EINVAL, "pt_id", parent + " is not a nest parent");
        }
        IommuDomain domain = core.domainAllocNested(idev.dev, parent.domain, stage1.table(), stage1.addressWidth());
        parent.get();
        return new Hwpt(domain, null, parent, false, false, (flags & Iommufd.HWPT_ALLOC_PASID) != 0);
    }

    /**
     * IOMMU_HWPT_ALLOC on {@code ptId} for {@code idev} (see {@link Iommufd#hwptAlloc}): a paging HWPT on an IOAS, a
     * nested one on a paging HWPT, made fault-capable on fault object {@code faultId} with HWPT_FAULT_ID_VALID.
     */
    static int alloc(IommuCore core, ObjectTable objects, IommufdDevice idev, int ptId, int flags, int faultId,
                     Iommufd.Stage1 stage1) {
        IommufdObject pt = objects.find(ptId);
        Hwpt hwpt;
        if (pt instanceof Ioas ioas) {
            hwpt = paging(core, idev, ioas, flags, stage1, false);
        } else if (pt instanceof Hwpt parent && parent.parent == null) {
            hwpt = nested(core, idev, parent, flags, stage1);
        } else {
            throw new KernelException(Errno.EINVAL, "pt_id", pt == null ? "no object " + ptId
                    : pt + " is not an IOAS or a paging HWPT");
        }
        if ((flags & Iommufd.HWPT_FAULT_ID_VALID) != 0) {
            FaultObject fault;
            try {
                fault = objects.get(faultId, FaultObject.class, "fault_id");
            } catch (KernelException e) {
                hwpt.destroy();
                throw e;
            }
            hwpt.fault = fault;
            fault.get();
            hwpt.domain.setIopfHandler(fault.file::iopfHandler);
        }
        return objects.add(hwpt).id();
    }
}
