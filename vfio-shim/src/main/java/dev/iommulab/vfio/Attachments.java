package dev.iommulab.vfio;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Attaching bound devices to HWPTs at the RID or a PASID, as drivers/iommu/iommufd/device.c does
 * ({@code iommufd_device_attach/replace/detach} → {@code iommufd_hwpt_attach_device},
 * {@code iommufd_hwpt_replace_device}, {@code iommufd_hwpt_detach_device}). Each attachment publishes its own attach
 * handle in the iommu group; the fault object finds the device ({@code dev_id}) through it. Leaving an attachment
 * answers INVALID what the attachment's fault object still holds for it (iommufd_auto_response_faults()).
 */
final class Attachments {

    private final IommuCore core;
    private final Iommufd.ReplaceAutoResponse mode;
    private final Consumer<Hwpt> releaseAuto;
    /** {@code struct iommufd_attach_handle}: each handle's device (kept while a fault object may hold its groups). */
    private final Map<AttachHandle, IommufdDevice> handles = new IdentityHashMap<>();

    /** @param releaseAuto destroys an automatic HWPT whose last attachment went */
    Attachments(IommuCore core, Iommufd.ReplaceAutoResponse mode, Consumer<Hwpt> releaseAuto) {
        this.core = core;
        this.mode = mode;
        this.releaseAuto = releaseAuto;
    }

    /** The iommufd device id behind {@code handle} ({@code to_iommufd_handle(handle)->idev->obj.id}). */
    int devId(AttachHandle handle) {
        IommufdDevice idev = handles.get(handle);
        return idev == null ? 0 : idev.id();
    }

    /**
     * Counterpart of iommufd_hwpt_attach_device() (formerly iommufd_fault_domain_attach_dev()): {@code hwpt} at
     * {@code pasid} of {@code idev}.
     *
     * @throws KernelException EINVAL when something is attached there already, the HWPT is not PASID compatible,
     *                         or it is fault-capable and the device a PCI VF with PRI; what the core reports
     */
    void attach(IommufdDevice idev, int pasid, Hwpt hwpt) {
        if (idev.attached.containsKey(pasid)) {
            throw new KernelException(Errno.EINVAL, "pasid", idev.dev + " has " + idev.attached.get(pasid).hwpt()
                    + " attached at PASID " + pasid + " already");
        }
        checkCompatible(idev, pasid, hwpt);
        AttachHandle handle = new AttachHandle(hwpt.domain);
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            core.attachGroupHandle(hwpt.domain, idev.dev.group(), handle);
        } else {
            core.attachDevicePasid(hwpt.domain, idev.dev, pasid, handle);
        }
        link(idev, pasid, hwpt, handle);
    }

    /**
     * Counterpart of iommufd_hwpt_replace_device() (formerly iommufd_fault_domain_replace_dev()): {@code pasid} of
     * {@code idev} moves to {@code hwpt} without passing through the blocking domain; then the old attachment's
     * outstanding groups are answered INVALID (see {@link Iommufd.ReplaceAutoResponse}). Replacing by the HWPT
     * already there does nothing.
     *
     * @throws KernelException EINVAL when nothing is attached at {@code pasid}, or as {@link #attach}
     */
    void replace(IommufdDevice idev, int pasid, Hwpt hwpt) {
        IommufdDevice.Attach old = idev.attached.get(pasid);
        if (old == null) {
            throw new KernelException(Errno.EINVAL, "pasid", "nothing attached at PASID " + pasid + " of " + idev.dev);
        }
        if (old.hwpt() == hwpt) {
            return;
        }
        checkCompatible(idev, pasid, hwpt);
        AttachHandle handle = new AttachHandle(hwpt.domain);
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            core.replaceGroupHandle(idev.dev.group(), hwpt.domain, handle);
        } else {
            core.replaceDevicePasid(hwpt.domain, idev.dev, pasid, handle);
        }
        idev.attached.remove(pasid);
        link(idev, pasid, hwpt, handle);
        Hwpt searched = mode == Iommufd.ReplaceAutoResponse.INTENDED ? old.hwpt() : hwpt;
        autoResponse(searched, old.handle());
        unlink(old.hwpt());
    }

    /**
     * Counterpart of iommufd_hwpt_detach_device() (formerly iommufd_fault_domain_detach_dev()): the RID goes back to
     * the blocking domain, or the PASID is blocked; the driver drops IOPF (the last fault-capable attachment takes
     * the device off the iopf queue, which answers its pending groups); then what the fault object still holds for
     * this attachment is answered INVALID.
     *
     * @throws KernelException EINVAL when nothing is attached at {@code pasid} (the kernel WARNs)
     */
    void detach(IommufdDevice idev, int pasid) {
        IommufdDevice.Attach old = idev.attached.get(pasid);
        if (old == null) {
            throw new KernelException(Errno.EINVAL, "pasid", "nothing attached at PASID " + pasid + " of " + idev.dev);
        }
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            core.detachGroupHandle(old.hwpt().domain, idev.dev.group());
        } else {
            core.detachDevicePasid(old.hwpt().domain, idev.dev, pasid);
        }
        idev.attached.remove(pasid);
        autoResponse(old.hwpt(), old.handle());
        unlink(old.hwpt());
    }

    /**
     * iommufd_hwpt_pasid_compat() and iommufd_hwpt_compatible_device(): a PASID needs an ALLOC_PASID HWPT, and so
     * does the RID while PASIDs are attached (and PASIDs while the RID has a HWPT without it); a fault-capable HWPT
     * cannot go to a PCI VF with PRI — the PRI interface is shared with the PF.
     */
    private static void checkCompatible(IommufdDevice idev, int pasid, Hwpt hwpt) {
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            if (!hwpt.pasidCompat && idev.attached.keySet().stream().anyMatch(p -> p != IommuCore.IOMMU_NO_PASID)) {
                throw new KernelException(Errno.EINVAL, "pt_id", hwpt + " lacks IOMMU_HWPT_ALLOC_PASID while "
                        + idev.dev + " has PASIDs attached");
            }
        } else {
            IommufdDevice.Attach rid = idev.attached.get(IommuCore.IOMMU_NO_PASID);
            if (!hwpt.pasidCompat || rid != null && !rid.hwpt().pasidCompat) {
                throw new KernelException(Errno.EINVAL, "pt_id", (hwpt.pasidCompat ? "the RID's " + rid.hwpt() : hwpt)
                        + " lacks IOMMU_HWPT_ALLOC_PASID");
            }
        }
        if (hwpt.fault != null && idev.dev.virtfn() && idev.dev.priSupported()) {
            throw new KernelException(Errno.EINVAL, "dev_id", idev.dev + " is a VF with PRI: the PRI interface is "
                    + "shared with its PF, so it cannot take a fault-capable HWPT");
        }
    }

    private void link(IommufdDevice idev, int pasid, Hwpt hwpt, AttachHandle handle) {
        handles.put(handle, idev);
        hwpt.get();
        idev.attached.put(pasid, new IommufdDevice.Attach(hwpt, handle));
    }

    private void unlink(Hwpt hwpt) {
        hwpt.put();
        if (hwpt.autoDomain && hwpt.users() == 1) {
            releaseAuto.accept(hwpt);
        }
    }

    private static void autoResponse(Hwpt hwpt, AttachHandle handle) {
        if (hwpt.fault != null) {
            hwpt.fault.file.autoResponse(handle);
        }
    }
}
