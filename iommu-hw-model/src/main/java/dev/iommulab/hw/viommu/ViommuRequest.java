package dev.iommulab.hw.viommu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The device-readable part of a virtio-iommu request: {@code struct virtio_iommu_req_head} and the type's fields,
 * little-endian (virtio 1.x §5.13.6.3-5.13.6.7). The device-writable part that follows is the tail (a status byte
 * and three reserved bytes), after the properties for a PROBE. {@link #encode()} is what a driver puts in its
 * readable buffer; {@link #decode} is what the device reads back.
 */
public sealed interface ViommuRequest {

    /** The {@code VIRTIO_IOMMU_T_*} type. */
    int type();

    /** Writes the fields after the head. */
    void encodeBody(ByteBuffer out);

    /** The readable part: head (type, reserved bytes zero) and fields. */
    default byte[] encode() {
        ByteBuffer out = ByteBuffer.allocate(readableBytes(type())).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) type()).put(new byte[3]);
        encodeBody(out);
        return out.array();
    }

    /** Bytes of the readable part of a request of {@code type}, or -1 for a type the spec does not define. */
    static int readableBytes(int type) {
        return switch (type) {
            case ViommuWire.T_ATTACH, ViommuWire.T_DETACH -> 20;
            case ViommuWire.T_MAP -> 36;
            case ViommuWire.T_UNMAP -> 28;
            case ViommuWire.T_PROBE -> 72;
            default -> -1;
        };
    }

    /**
     * The request in {@code readable}, whose first byte is a defined type and which holds at least
     * {@link #readableBytes} of it (later bytes are ignored). The head's reserved bytes are ignored, as the device
     * must.
     *
     * @throws IllegalArgumentException when {@code readable} is shorter or its type undefined: the device checks
     *                                  both first and answers the guest itself
     */
    static ViommuRequest decode(byte[] readable) {
        int type = readable.length == 0 ? -1 : readable[0] & 0xff;
        int need = readableBytes(type);
        if (need < 0 || readable.length < need) {
            throw new IllegalArgumentException("not a whole request of a defined type: " + readable.length + " bytes");
        }
        ByteBuffer in = ByteBuffer.wrap(readable).order(ByteOrder.LITTLE_ENDIAN).position(ViommuWire.HEAD_BYTES);
        return switch (type) {
            case ViommuWire.T_ATTACH -> new Attach(in.getInt(), in.getInt(), in.getInt(), in.getInt());
            case ViommuWire.T_DETACH -> new Detach(in.getInt(), in.getInt(), in.getLong());
            case ViommuWire.T_MAP -> new Map(in.getInt(), in.getLong(), in.getLong(), in.getLong(), in.getInt());
            case ViommuWire.T_UNMAP -> new Unmap(in.getInt(), in.getLong(), in.getLong(), in.getInt());
            default -> new Probe(in.getInt());
        };
    }

    /** Unknown flag bits and nonzero reserved bytes, when there are any, for a request's description. */
    private static String extra(int unknownFlags, long reserved) {
        return (unknownFlags != 0 ? String.format(" flags %#x", unknownFlags) : "")
                + (reserved != 0 ? String.format(" reserved %#x", reserved) : "");
    }

    /**
     * {@code struct virtio_iommu_req_attach}: attach {@code endpoint} to {@code domain}, creating the domain.
     *
     * @param reserved the four reserved bytes as one little-endian word; the device must refuse a nonzero value
     */
    record Attach(int domain, int endpoint, int flags, int reserved) implements ViommuRequest {

        public Attach(int domain, int endpoint, int flags) {
            this(domain, endpoint, flags, 0);
        }

        @Override
        public int type() {
            return ViommuWire.T_ATTACH;
        }

        @Override
        public void encodeBody(ByteBuffer out) {
            out.putInt(domain).putInt(endpoint).putInt(flags).putInt(reserved);
        }

        @Override
        public String toString() {
            return String.format("ATTACH domain %d endpoint %d%s%s", domain, endpoint,
                    (flags & ViommuWire.ATTACH_F_BYPASS) != 0 ? " BYPASS" : "", extra(flags & ~1, reserved));
        }
    }

    /** {@code struct virtio_iommu_req_detach}; {@code reserved} is ignored by the device. */
    record Detach(int domain, int endpoint, long reserved) implements ViommuRequest {

        public Detach(int domain, int endpoint) {
            this(domain, endpoint, 0);
        }

        @Override
        public int type() {
            return ViommuWire.T_DETACH;
        }

        @Override
        public void encodeBody(ByteBuffer out) {
            out.putInt(domain).putInt(endpoint).putLong(reserved);
        }

        @Override
        public String toString() {
            return String.format("DETACH domain %d endpoint %d", domain, endpoint);
        }
    }

    /** {@code struct virtio_iommu_req_map}: {@code [virtStart, virtEnd]} (inclusive) to {@code physStart}. */
    record Map(int domain, long virtStart, long virtEnd, long physStart, int flags) implements ViommuRequest {

        @Override
        public int type() {
            return ViommuWire.T_MAP;
        }

        @Override
        public void encodeBody(ByteBuffer out) {
            out.putInt(domain).putLong(virtStart).putLong(virtEnd).putLong(physStart).putInt(flags);
        }

        @Override
        public String toString() {
            return String.format("MAP domain %d [%#x, %#x] -> %#x %s%s%s%s", domain, virtStart, virtEnd, physStart,
                    (flags & ViommuWire.MAP_F_READ) != 0 ? "R" : "-", (flags & ViommuWire.MAP_F_WRITE) != 0 ? "W" : "-",
                    (flags & ViommuWire.MAP_F_MMIO) != 0 ? " MMIO" : "", extra(flags & ~ViommuWire.MAP_F_MASK, 0));
        }
    }

    /** {@code struct virtio_iommu_req_unmap}: remove every mapping inside {@code [virtStart, virtEnd]}. */
    record Unmap(int domain, long virtStart, long virtEnd, int reserved) implements ViommuRequest {

        public Unmap(int domain, long virtStart, long virtEnd) {
            this(domain, virtStart, virtEnd, 0);
        }

        @Override
        public int type() {
            return ViommuWire.T_UNMAP;
        }

        @Override
        public void encodeBody(ByteBuffer out) {
            out.putInt(domain).putLong(virtStart).putLong(virtEnd).putInt(reserved);
        }

        @Override
        public String toString() {
            return String.format("UNMAP domain %d [%#x, %#x]%s", domain, virtStart, virtEnd, extra(0, reserved));
        }
    }

    /** {@code struct virtio_iommu_req_probe}: the endpoint's properties (its writable part is probe_size + 4). */
    record Probe(int endpoint) implements ViommuRequest {

        @Override
        public int type() {
            return ViommuWire.T_PROBE;
        }

        @Override
        public void encodeBody(ByteBuffer out) {
            out.putInt(endpoint).put(new byte[64]);
        }

        @Override
        public String toString() {
            return "PROBE endpoint " + endpoint;
        }
    }
}
