package dev.iommulab.hw.pci;

/** How a DMA work item of a function ended (SCENARIO-FORMAT.md `dma.status`). */
public enum DmaStatus {
    OK("ok"),
    UR("ur"),
    CA("ca"),
    /** A faulting posted write: discarded, the function saw nothing. */
    DROPPED("dropped"),
    /** A page request group was answered Invalid Request. */
    INVALID("invalid"),
    /** PRI is disabled by a Response Failure (RF). */
    PRI_FAILED("pri-failed"),
    /** The host kept answering Success without making the page accessible. */
    RETRY_LIMIT("retry-limit"),
    /** Not finished when the run ended. */
    PENDING("pending");

    private final String label;

    DmaStatus(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
