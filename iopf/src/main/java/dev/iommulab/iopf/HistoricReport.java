package dev.iommulab.iopf;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.kernel.Errno;

/**
 * iommu_report_device_fault() as kernels before b58b133e680b (v6.11) ran it: the fault param first, then
 * non-last requests parked before any routing (reference §2.6, §8 items 56-58).
 * <ul>
 *   <li>{@link KernelVersion#V6_8}: no fault param → WARN and nothing answered; no handler, group OOM,
 *       handler refusal → err_abort;</li>
 *   <li>{@link KernelVersion#V6_9}: the same with the lost {@code return}: a parked non-last request falls
 *       through into iopf_group_alloc() and is grouped and answered (and the param reference dropped by
 *       the partial path is dropped again when the group is freed);</li>
 *   <li>{@link KernelVersion#PRE_6_8}: iommu_queue_iopf(): errors are returned to the driver, which answers
 *       (VT-d: INVALID, only for LPIG); a failed LPIG first frees the partials of its grpid.</li>
 * </ul>
 */
final class HistoricReport {

    private HistoricReport() {
    }

    static int report(Iopf iopf, Device dev, IommuFault evt) {
        KernelVersion kernel = iopf.kernel();
        FaultParam param = iopf.params().get(dev);
        if (param == null) {
            if (kernel == KernelVersion.PRE_6_8) {
                iopf.trace("iommu_report_device_fault", "no fault param: -EINVAL, the driver answers");
                return Errno.EINVAL.negative();
            }
            iopf.log().warn("WARNING: %s: iommu_report_device_fault: no iopf fault param", dev.pciName());
            iopf.trace("iommu_report_device_fault", "no fault param: request dropped, nothing answered");
            return Errno.ENODEV.negative();
        }
        if (!evt.lastPage()) {
            int ret = iopf.assembly().reportPartialFault(param, evt);
            if (kernel != KernelVersion.V6_9) {
                return ret;
            }
            iopf.trace("iommu_report_device_fault", "lost return: non-last request falls through to grouping");
        }
        AttachHandle handle = iopf.findFaultHandler(dev, evt);
        if (kernel == KernelVersion.PRE_6_8) {
            return queueIopf(iopf, dev, param, evt, handle);
        }
        Group group = iopf.assembly().groupAlloc(param, evt);
        if (handle == null && !group.abortGroup() && !group.backPressure()) {
            iopf.log().warn("pci %s: iopf (pasid %d) without domain attached or handler installed", dev.pciName(),
                    evt.pasid());
            return iopf.errAbort(group, "no domain for iopf");
        }
        return iopf.dispatch(group, handle);
    }

    /** Counterpart of iommu_queue_iopf() as kernels before 6.8 ran it, for an LPIG. */
    private static int queueIopf(Iopf iopf, Device dev, FaultParam param, IommuFault evt, AttachHandle handle) {
        GroupAssembly assembly = iopf.assembly();
        if (handle == null) {
            iopf.log().warn("pci %s: iopf (pasid %d) without domain attached or handler installed", dev.pciName(),
                    evt.pasid());
            iopf.params().put(param);
            return Errno.ENODEV.negative();
        }
        Group group = assembly.groupAlloc(param, evt);
        if (group.abortGroup()) {
            iopf.trace("iommu_queue_iopf", "group allocation failed: cleanup_partial, -ENOMEM");
            param.faults.remove(group);
            assembly.freeGroup(group);
            return Errno.ENOMEM.negative();
        }
        if (group.backPressure()) {
            return iopf.dispatch(group, handle);
        }
        group.attachHandle = handle;
        int ret = handle.domain().iopfHandler().handle(group);
        if (ret != 0) {
            iopf.trace("iommu_queue_iopf", "handler refused (%s): group freed, the driver answers",
                    Errno.fromReturn(ret));
            param.faults.remove(group);
            assembly.freeGroup(group);
        }
        return ret;
    }
}
