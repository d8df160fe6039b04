package dev.iommulab.core.fault;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;

/**
 * {@code iommu_fault_handler_t} of include/linux/iommu.h: the legacy per-domain fault handler installed with
 * {@link LegacyFaultReporting#setFaultHandler} and called by {@link LegacyFaultReporting#reportIommuFault}.
 *
 * <p>Called by an IOMMU driver's fault interrupt, in interrupt context: it must not sleep or wait (a handler
 * that wants to reset the device defers that to a workqueue, as remoteproc's recovery does). Ready-made
 * handlers for the three patterns of the kernel's users are in {@link IommuFaultHandlers}.
 */
@FunctionalInterface
public interface IommuFaultHandler {

    /**
     * @param domain the domain the fault happened in
     * @param dev    the faulting device, or null when the IOMMU driver does not know it (arm-smmu passes NULL)
     * @param iova   the faulting address
     * @param flags  {@link LegacyFaultReporting#IOMMU_FAULT_READ} or {@link LegacyFaultReporting#IOMMU_FAULT_WRITE}
     * @param token  what was passed as {@code token} when the handler was installed
     * @return 0 when handled; an error, typically -ENOSYS, to let the IOMMU driver do its default (print)
     */
    int handle(IommuDomain domain, Device dev, long iova, int flags, Object token);
}
