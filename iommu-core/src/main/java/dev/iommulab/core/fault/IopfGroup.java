package dev.iommulab.core.fault;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import java.util.List;

/**
 * A page request group handed to a fault handler ({@code struct iopf_group}): the partial requests of
 * its grpid in arrival order, then the LPIG request. A handler that accepted a group must answer it
 * once through the iopf layer's group response and then free it.
 */
public interface IopfGroup {

    Device device();

    /** The LPIG request; its pasid and grpid address the response. */
    IommuFault lastFault();

    /** All requests, in arrival order, the LPIG request last. */
    List<IommuFault> faults();

    default int faultCount() {
        return faults().size();
    }

    /** The attach handle the group was routed to. */
    AttachHandle attachHandle();

    /**
     * Queues {@code work} on the workqueue of the IOMMU's iopf queue (the group's {@code work} item, as
     * {@code iommu_sva_iopf_handler} does).
     */
    void queueWork(String label, Runnable work);
}
