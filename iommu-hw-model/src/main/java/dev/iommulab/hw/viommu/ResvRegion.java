package dev.iommulab.hw.viommu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reserved region of an endpoint's address space, reported by PROBE as a {@code VIRTIO_IOMMU_PROBE_T_RESV_MEM}
 * property ({@code struct virtio_iommu_probe_resv_mem}, 24 bytes). Accesses from the endpoint into an
 * {@link #msi()} region reach the interrupt controller untranslated, attached or not; accesses into a
 * {@code RESERVED} region are refused, as QEMU's virtio_iommu_translate() does.
 *
 * @param start   first address
 * @param end     last address (inclusive)
 * @param subtype {@link ViommuWire#RESV_MEM_T_RESERVED} or {@link ViommuWire#RESV_MEM_T_MSI}
 */
public record ResvRegion(long start, long end, int subtype) {

    /** Bytes of the property, header included. */
    public static final int PROPERTY_BYTES = 24;

    public ResvRegion {
        if (Long.compareUnsigned(end, start) < 0) {
            throw new IllegalArgumentException(String.format("region [%#x, %#x] ends before it starts", start, end));
        }
        if (subtype != ViommuWire.RESV_MEM_T_RESERVED && subtype != ViommuWire.RESV_MEM_T_MSI) {
            throw new IllegalArgumentException("unknown reserved-memory subtype " + subtype);
        }
    }

    public boolean msi() {
        return subtype == ViommuWire.RESV_MEM_T_MSI;
    }

    public boolean contains(long addr) {
        return Long.compareUnsigned(addr, start) >= 0 && Long.compareUnsigned(addr, end) <= 0;
    }

    /** The property: type RESV_MEM, length 20, subtype, three reserved bytes, start, end. */
    public byte[] encode() {
        return ByteBuffer.allocate(PROPERTY_BYTES).order(ByteOrder.LITTLE_ENDIAN)
                .putShort((short) ViommuWire.PROBE_T_RESV_MEM)
                .putShort((short) (PROPERTY_BYTES - ViommuWire.PROPERTY_HEAD_BYTES))
                .put((byte) subtype).put(new byte[3]).putLong(start).putLong(end).array();
    }
}
