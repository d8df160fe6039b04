package dev.iommulab.hw.pci;

import dev.iommulab.hw.sim.Labelled;

/**
 * How a DMA work item of a function ended (SCENARIO-FORMAT.md {@code dma.status}). The labels are a
 * public contract; {@link #DEVICE_ERROR} and {@link #ABORTED} are additions of this model.
 */
public enum DmaStatus implements Labelled {
    OK,
    /** A read (or ATS Translation Request) got an Unsupported Request completion. */
    UR,
    /** A read (or ATS Translation Request) got a Completer Abort completion. */
    CA,
    /**
     * A faulting posted write was discarded (reference §1.2): the function saw nothing and went on with the
     * rest of the work item; the fault address is the first write that was lost.
     */
    DROPPED,
    /** A page request group was answered Invalid Request. */
    INVALID,
    /** PRI is disabled by a Response Failure (RF). */
    PRI_FAILED,
    /** The host kept answering Success without making the page accessible. */
    RETRY_LIMIT,
    /** Not finished when the run ended. */
    PENDING,
    /**
     * Added: the function is non-functional because a descriptor fetch failed earlier; every work item
     * fails at once until a Function Level Reset (reference §4: the driver must reset the function).
     */
    DEVICE_ERROR,
    /**
     * Added: the work item was abandoned by the function — the device driver stopped its PASID
     * ({@link PcieEndpoint#stopPasid}) or the function was reset (FLR).
     */
    ABORTED;
}
