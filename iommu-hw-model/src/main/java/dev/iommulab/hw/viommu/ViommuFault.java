package dev.iommulab.hw.viommu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A fault record the device writes in an event buffer ({@code struct virtio_iommu_fault}, 24 bytes, little-endian):
 * reason, three reserved bytes, flags, endpoint, a reserved word and the faulting address. The device writes every
 * reserved byte zero.
 *
 * @param flags {@link ViommuWire#FAULT_F_READ}, {@link ViommuWire#FAULT_F_WRITE}, {@link ViommuWire#FAULT_F_ADDRESS}
 */
public record ViommuFault(ViommuFaultReason reason, int flags, int endpoint, long address) {

    public ViommuFault {
        Objects.requireNonNull(reason, "reason");
    }

    /** Whether {@link #address()} is meaningful. */
    public boolean hasAddress() {
        return (flags & ViommuWire.FAULT_F_ADDRESS) != 0;
    }

    public byte[] encode() {
        return ByteBuffer.allocate(ViommuWire.FAULT_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) reason.code()).put(new byte[3]).putInt(flags).putInt(endpoint).putInt(0)
                .putLong(address).array();
    }
}
