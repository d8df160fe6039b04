package dev.iommulab.iopf;

import dev.iommulab.core.Device;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;

/**
 * What the layers around io-pgfault call: the iopf declarations of {@code include/linux/iommu.h}. Drivers
 * allocate a queue per IOMMU, put devices on it and report each page request; fault consumers (SVA, iommufd)
 * answer and free the groups their handlers received. {@link Iopf} is the lab's io-pgfault; {@link IopfModule}
 * binds it here, so a test can replace the layer with {@code Modules.override} and a plain implementation.
 *
 * <p>Every call happens on the machine's event loop: drivers call from their probe/attach paths and their
 * page-request IRQ threads, consumers from their iopf handler or its work item. An implementation must never
 * answer a request twice, nor answer a non-last request.
 */
public interface IoPgfault {

    /** The kernel version followed; a driver asks whether it answers a reported error itself (before 6.8). */
    KernelVersion kernel();

    /** {@code iopf_queue_alloc()}: called once per IOMMU instance when the driver probes it. */
    IopfQueue queueAlloc(String name);

    /** {@code iopf_queue_add_device()}: called by a driver when it enables IOPF for {@code dev}. */
    void queueAddDevice(IopfQueue queue, Device dev);

    /** {@code iopf_queue_remove_device()}: called by a driver when it disables IOPF for {@code dev}. */
    void queueRemoveDevice(IopfQueue queue, Device dev);

    /**
     * {@code iopf_queue_flush_dev()}: called by a driver draining a PASID; {@code whenFlushed} runs once the
     * work queued so far for the device's queue has finished.
     */
    void queueFlushDev(Device dev, Runnable whenFlushed);

    /** {@code iopf_queue_discard_partial()}: called by a driver recovering from a page-request queue overflow. */
    void queueDiscardPartial(IopfQueue queue);

    /** {@code iopf_queue_free()}: called when the IOMMU instance goes away. */
    void queueFree(IopfQueue queue);

    /**
     * {@code iommu_report_device_fault()}: called by a driver's page-request thread for each request.
     *
     * @return 0, or a negative errno (see {@link Iopf#reportDeviceFault})
     */
    int reportDeviceFault(Device dev, IommuFault evt);

    /** {@code iopf_group_response()}: called by the consumer that received {@code group}; once per group. */
    void groupResponse(IopfGroup group, PageResponseCode code);

    /** {@code iopf_group_response()} labelled with who answers (e.g. iommufd's auto-response). */
    void groupResponse(IopfGroup group, PageResponseCode code, ResponseOrigin origin);

    /** Whether {@code group} is still owed its response (a consumer holding groups asks before answering). */
    boolean groupOwed(IopfGroup group);

    /** {@code iopf_free_group()}: called by the consumer after answering {@code group}. */
    void freeGroup(IopfGroup group);
}
