package dev.iommulab.hw.pci;

/**
 * How a DMA work item of a function ended (SCENARIO-FORMAT.md {@code dma.status}). The labels are a
 * public contract; {@link #DEVICE_ERROR} and {@link #ABORTED} are additions of this model.
 */
public enum DmaStatus {
    OK("ok"),
    /** A read (or ATS Translation Request) got an Unsupported Request completion. */
    UR("ur"),
    /** A read (or ATS Translation Request) got a Completer Abort completion. */
    CA("ca"),
    /**
     * A faulting posted write was discarded (reference §1.2): the function saw nothing and went on with the
     * rest of the work item; the fault address is the first write that was lost.
     */
    DROPPED("dropped"),
    /** A page request group was answered Invalid Request. */
    INVALID("invalid"),
    /** PRI is disabled by a Response Failure (RF). */
    PRI_FAILED("pri-failed"),
    /** The host kept answering Success without making the page accessible. */
    RETRY_LIMIT("retry-limit"),
    /** Not finished when the run ended. */
    PENDING("pending"),
    /**
     * Added: the function is non-functional because a descriptor fetch failed earlier; every work item
     * fails at once until a Function Level Reset (reference §4: the driver must reset the function).
     */
    DEVICE_ERROR("device-error"),
    /**
     * Added: the work item was abandoned by the function — the device driver stopped its PASID
     * ({@link PcieEndpoint#stopPasid}) or the function was reset (FLR).
     */
    ABORTED("aborted");

    private final String label;

    DmaStatus(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
