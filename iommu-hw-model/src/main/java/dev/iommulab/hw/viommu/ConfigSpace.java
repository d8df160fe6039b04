package dev.iommulab.hw.viommu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The bytes of {@code struct virtio_iommu_config} (virtio 1.x §5.13.4), little-endian. */
final class ConfigSpace {

    private ConfigSpace() {
    }

    static byte[] encode(ViommuOptions o, int bypass) {
        return ByteBuffer.allocate(ViommuWire.CONFIG_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(o.pageSizeMask()).putLong(o.inputStart()).putLong(o.inputEnd())
                .putInt(o.domainStart()).putInt(o.domainEnd()).putInt(o.probeSize())
                .put((byte) bypass).array();
    }
}
