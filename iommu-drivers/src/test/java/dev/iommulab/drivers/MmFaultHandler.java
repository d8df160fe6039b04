package dev.iommulab.drivers;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.mm.FaultFlags;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.VmFault;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.iopf.Iopf;

/**
 * A test stand-in for the SVA fault handler (the sva module's, which the drivers module cannot depend on): on the iopf
 * workqueue it resolves each fault of a group against the SVA domain's mm as iommu_sva_handle_iopf() does — an mm
 * without users, no VMA, or an access the VMA does not allow is INVALID; otherwise handle_mm_fault(), INVALID on
 * VM_FAULT_ERROR — and answers the group once.
 */
public final class MmFaultHandler {

    private final Iopf iopf;

    public MmFaultHandler(Iopf iopf) {
        this.iopf = iopf;
    }

    /** The domain's {@code iopf_handler}. */
    public int handle(IopfGroup group) {
        group.queueWork("test-sva-handler", () -> {
            MmStruct mm = group.attachHandle().domain().mm();
            PageResponseCode code = PageResponseCode.SUCCESS;
            for (IommuFault f : group.faults()) {
                code = resolve(mm, f);
                if (code != PageResponseCode.SUCCESS) {
                    break;
                }
            }
            iopf.groupResponse(group, code);
            iopf.freeGroup(group);
        });
        return 0;
    }

    private static PageResponseCode resolve(MmStruct mm, IommuFault f) {
        if (!mm.mmgetNotZero()) {
            return PageResponseCode.INVALID;
        }
        try {
            Vma vma = mm.vmaLookup(f.addr());
            boolean write = f.hasPerm(IommuFault.PERM_WRITE);
            int access = (f.hasPerm(IommuFault.PERM_READ) ? Vma.VM_READ : 0) | (write ? Vma.VM_WRITE : 0);
            if (vma == null || !vma.has(access)) {
                return PageResponseCode.INVALID;
            }
            int ret = mm.handleMmFault(vma, f.addr(), FaultFlags.FAULT_FLAG_REMOTE | FaultFlags.FAULT_FLAG_USER
                    | (write ? FaultFlags.FAULT_FLAG_WRITE : 0));
            return (ret & VmFault.VM_FAULT_ERROR) != 0 ? PageResponseCode.INVALID : PageResponseCode.SUCCESS;
        } finally {
            mm.mmput();
        }
    }
}
