package dev.iommulab.sva;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.mm.FaultFlags;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.VmFault;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.iopf.IoPgfault;

/**
 * The SVA domain's fault handler: {@code iommu_sva_iopf_handler()} queues the group on the IOMMU's iopf
 * workqueue; the worker, {@code iommu_sva_handle_iopf()}, resolves each fault against the process with
 * {@code iommu_sva_handle_mm()} and answers the group once. Errors are sticky: the first fault that is
 * not SUCCESS decides the response and the rest are not processed. SVA never answers FAILURE.
 */
final class SvaIopfHandler {

    private final IoPgfault iopf;
    private final EventLoop loop;

    SvaIopfHandler(IoPgfault iopf, EventLoop loop) {
        this.iopf = iopf;
        this.loop = loop;
    }

    /** Counterpart of iommu_sva_iopf_handler(). */
    int handle(IopfGroup group) {
        group.queueWork("iommu_sva_handle_iopf", () -> handleIopf(group));
        return 0;
    }

    /** Counterpart of iommu_sva_handle_iopf() (formerly iopf_handle_group()). */
    void handleIopf(IopfGroup group) {
        MmStruct mm = group.attachHandle().domain().mm();
        PageResponseCode status = PageResponseCode.SUCCESS;
        for (IommuFault fault : group.faults()) {
            status = handleMm(fault, mm);
            if (status != PageResponseCode.SUCCESS) {
                break;
            }
        }
        iopf.groupResponse(group, status);
        iopf.freeGroup(group);
    }

    /** Counterpart of iommu_sva_handle_mm(). */
    PageResponseCode handleMm(IommuFault fault, MmStruct mm) {
        if (!fault.pasidValid()) {
            return step(fault, "no PASID", PageResponseCode.INVALID);
        }
        if (!mm.mmgetNotZero()) {
            return step(fault, "mm has exited", PageResponseCode.INVALID);
        }
        try {
            Vma vma = mm.vmaLookup(fault.addr());
            if (vma == null) {
                return step(fault, "no VMA covers the address", PageResponseCode.INVALID);
            }
            int access = (fault.hasPerm(IommuFault.PERM_READ) ? Vma.VM_READ : 0)
                    | (fault.hasPerm(IommuFault.PERM_WRITE) ? Vma.VM_WRITE : 0)
                    | (fault.hasPerm(IommuFault.PERM_EXEC) ? Vma.VM_EXEC : 0);
            if (!vma.has(access)) {
                return step(fault, "access not allowed by the VMA", PageResponseCode.INVALID);
            }
            int flags = FaultFlags.FAULT_FLAG_REMOTE
                    | (fault.hasPerm(IommuFault.PERM_WRITE) ? FaultFlags.FAULT_FLAG_WRITE : 0)
                    | (fault.hasPerm(IommuFault.PERM_EXEC) ? FaultFlags.FAULT_FLAG_INSTRUCTION : 0)
                    | (fault.hasPerm(IommuFault.PERM_PRIV) ? 0 : FaultFlags.FAULT_FLAG_USER);
            int ret = mm.handleMmFault(vma, fault.addr(), flags);
            if ((ret & VmFault.VM_FAULT_ERROR) != 0) {
                return step(fault, String.format("handle_mm_fault returned %#x", ret), PageResponseCode.INVALID);
            }
            return step(fault, "handle_mm_fault mapped the page", PageResponseCode.SUCCESS);
        } finally {
            mm.mmput();
        }
    }

    private PageResponseCode step(IommuFault fault, String what, PageResponseCode result) {
        if (loop.trace().enabled()) { // permString() builds a string
            loop.trace().step(loop.now(), Layer.SVA, "iommu_sva_handle_mm", "PASID %d %#x %s: %s -> %s",
                    fault.pasid(), fault.addr(), fault.permString(), what, result);
        }
        return result;
    }
}
