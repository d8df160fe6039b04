package dev.iommulab.hw.virtio;

/** What {@link VirtqueueDevice#pop()} found at the device's position in the available ring. */
public sealed interface PopResult permits PopResult.Empty, PopResult.Popped, PopResult.Malformed, PopResult.Broken {

    /** Nothing new in the available ring. */
    record Empty() implements PopResult {
    }

    /** The next chain, now in use until {@link VirtqueueDevice#push} returns it. */
    record Popped(DescriptorChain chain) implements PopResult {
    }

    /**
     * The next chain (or the ring itself) is malformed: the queue is now broken, nothing was written to the used
     * ring, and the device should set {@link VirtioStatus#DEVICE_NEEDS_RESET}.
     *
     * @param error   which rule was broken
     * @param message the text QEMU's {@code virtio_error()} prints for it
     */
    record Malformed(ChainError error, String message) implements PopResult {
    }

    /** The queue broke on an earlier chain: it pops nothing until it is reset. */
    record Broken() implements PopResult {
    }
}
