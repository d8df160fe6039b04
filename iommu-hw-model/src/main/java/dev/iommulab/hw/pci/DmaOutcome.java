package dev.iommulab.hw.pci;

/**
 * The end of a {@link DmaJob}.
 *
 * @param faultAddr the address the work item failed at, or -1
 * @param data      bytes read (successful reads of a job that {@link DmaJob#keepsReadData() keeps them}; else
 *                  empty)
 */
public record DmaOutcome(DmaJob job, DmaStatus status, long faultAddr, long startNs, long endNs, byte[] data) {

    public long latencyNs() {
        return endNs - startNs;
    }
}
