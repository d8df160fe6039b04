package dev.iommulab.hw.virtio;

/** Bits of the device status field (virtio 1.x §2.1 Device Status Field). */
public final class VirtioStatus {

    public static final int ACKNOWLEDGE = 1;
    public static final int DRIVER = 2;
    public static final int DRIVER_OK = 4;
    public static final int FEATURES_OK = 8;
    /**
     * The device met an error it cannot recover from (a malformed descriptor chain, {@link ChainError}); with
     * {@link #DRIVER_OK} set it must send a configuration-change notification.
     */
    public static final int DEVICE_NEEDS_RESET = 64;
    public static final int FAILED = 128;

    private VirtioStatus() {
    }
}
