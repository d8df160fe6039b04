package dev.iommulab.hw.pci;

/**
 * What one {@link DeviceProfile} does its own way (reference/iommu-hardware.md §4). The DMA engine asks
 * its profile; everything the PCIe protocol fixes (tags, PRI credits, posted writes) stays in the engine.
 */
interface ProfileBehaviour {

    static ProfileBehaviour of(DeviceProfile profile) {
        return switch (profile) {
            case ACCELERATOR -> new AcceleratorBehaviour();
            case NIC -> new NicBehaviour();
            case NVME -> new NvmeBehaviour();
            case GENERIC -> new GenericBehaviour();
        };
    }

    /** Max payload (and read request) size when {@link EndpointOptions#mps()} is 0. */
    default int defaultMps() {
        return 4096;
    }

    /** Whether a not-accessible page makes the function ask for the rest of its range in one group. */
    default boolean requestsRange(EndpointOptions options) {
        return false;
    }

    /** The device's reaction, for the trace, when the work item fails with {@code status} at {@code addr}. */
    String failedWorkItem(DmaStatus status, long addr);

    /** The device's view, for the trace, when a posted write of the work item was discarded. */
    default String lostWrite() {
        return "the function cannot tell and goes on";
    }
}
