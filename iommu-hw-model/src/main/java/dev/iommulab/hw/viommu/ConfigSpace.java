package dev.iommulab.hw.viommu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct virtio_iommu_config} (virtio 1.x §5.13.4): the 40 little-endian bytes the driver reads, of which it
 * may write only {@code bypass}. A device reset keeps {@code bypass}; a system reset restores its boot value.
 */
final class ConfigSpace {

    private final ViommuOptions options;
    private int bypass;

    ConfigSpace(ViommuOptions options) {
        this.options = options;
        systemReset();
    }

    int bypass() {
        return bypass;
    }

    void systemReset() {
        bypass = options.bootBypass() ? 1 : 0;
    }

    /** {@code width} bytes at {@code offset}; bytes past the structure read 0. */
    long read(int offset, int width) {
        byte[] bytes = ByteBuffer.allocate(ViommuWire.CONFIG_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(options.pageSizeMask()).putLong(options.inputStart()).putLong(options.inputEnd())
                .putInt(options.domainStart()).putInt(options.domainEnd()).putInt(options.probeSize())
                .put((byte) bypass).array();
        long value = 0;
        for (int i = width - 1; i >= 0; i--) {
            int at = offset + i;
            value = value << 8 | (at >= 0 && at < bytes.length ? bytes[at] & 0xff : 0);
        }
        return value;
    }

    /**
     * A driver's write: {@code bypass} takes 0 or 1 when BYPASS_CONFIG was negotiated; anything else changes nothing.
     *
     * @return the text QEMU's {@code virtio_error()} prints for a refused write to {@code bypass}, else null
     */
    String write(int offset, int width, long value, long negotiated) {
        if (offset != ViommuWire.CONFIG_BYPASS || width != 1 || value == bypass) {
            return null; // QEMU's virtio_iommu_set_config() looks only at a bypass that changes
        }
        if (!ViommuWire.has(negotiated, ViommuWire.F_BYPASS_CONFIG)) {
            return "cannot set config.bypass";
        }
        if (value != 0 && value != 1) {
            return String.format("invalid config.bypass value '%d'", value);
        }
        bypass = (int) value;
        return null;
    }
}
