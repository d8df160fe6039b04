package dev.iommulab.hw.viommu;

import java.util.Objects;

/**
 * How a virtio-iommu device is built: what it offers (features and configuration) and the choices the
 * specification leaves to an implementation.
 *
 * @param implementation whose answers the device gives where QEMU departs from the specification
 * @param noBuffer       what the device does with a fault when the event queue has no buffer
 * @param waitDepth      with {@link NoBuffer#WAIT}, how many faults the device holds for buffers; a fault beyond
 *                       them is dropped (the specification sets no bound; a device holds finite state)
 * @param bootBypass     {@code config.bypass} after a system reset (QEMU's {@code boot-bypass}, default true); a
 *                       device reset keeps the value the driver last wrote
 * @param pageSizeMask   {@code config.page_size_mask}; its lowest set bit is the granule
 * @param inputStart     {@code config.input_range.start}
 * @param inputEnd       {@code config.input_range.end} (inclusive)
 * @param domainStart    {@code config.domain_range.start} (unsigned)
 * @param domainEnd      {@code config.domain_range.end} (unsigned, inclusive)
 * @param probeSize      {@code config.probe_size}: bytes of the properties a PROBE returns
 * @param features       the feature bits offered ({@code VIRTIO_F_VERSION_1} must be among them)
 */
public record ViommuOptions(Implementation implementation, NoBuffer noBuffer, int waitDepth, boolean bootBypass,
                            long pageSizeMask, long inputStart, long inputEnd, int domainStart, int domainEnd,
                            int probeSize, long features) {

    /** The features QEMU's device offers: every device feature but the legacy F_BYPASS. */
    public static final long QEMU_FEATURES = 1L << ViommuWire.F_VERSION_1 | 1L << ViommuWire.F_INDIRECT_DESC
            | 1L << ViommuWire.F_EVENT_IDX | 1L << ViommuWire.F_INPUT_RANGE | 1L << ViommuWire.F_DOMAIN_RANGE
            | 1L << ViommuWire.F_MAP_UNMAP | 1L << ViommuWire.F_MMIO | 1L << ViommuWire.F_PROBE
            | 1L << ViommuWire.F_BYPASS_CONFIG;

    /** A 4 KiB granule, the whole 64-bit input range, any domain ID, 512 bytes of probe properties, drop. */
    public static final ViommuOptions DEFAULTS = new ViommuOptions(Implementation.SPEC, NoBuffer.DROP, 64, true,
            -4096L, 0, -1L, 0, -1, 512, QEMU_FEATURES);

    public ViommuOptions {
        Objects.requireNonNull(implementation, "implementation");
        Objects.requireNonNull(noBuffer, "noBuffer");
        if (waitDepth < 0) {
            throw new IllegalArgumentException("waitDepth must not be negative: " + waitDepth);
        }
        if (pageSizeMask == 0) {
            throw new IllegalArgumentException("page_size_mask needs at least one bit (a granule)");
        }
        if (probeSize < 0 || probeSize % 4 != 0) {
            throw new IllegalArgumentException("probe_size must be a non-negative multiple of 4: " + probeSize);
        }
        if (!ViommuWire.has(features, ViommuWire.F_VERSION_1)) {
            throw new IllegalArgumentException("a modern device offers VIRTIO_F_VERSION_1");
        }
    }

    /** The granule in bytes: the lowest set bit of {@link #pageSizeMask()}. */
    public long granule() {
        return Long.lowestOneBit(pageSizeMask);
    }

    public boolean offers(int feature) {
        return ViommuWire.has(features, feature);
    }

    public ViommuOptions withImplementation(Implementation value) {
        return new ViommuOptions(value, noBuffer, waitDepth, bootBypass, pageSizeMask, inputStart, inputEnd,
                domainStart, domainEnd, probeSize, features);
    }

    public ViommuOptions withNoBuffer(NoBuffer value, int depth) {
        return new ViommuOptions(implementation, value, depth, bootBypass, pageSizeMask, inputStart, inputEnd,
                domainStart, domainEnd, probeSize, features);
    }

    public ViommuOptions withBootBypass(boolean value) {
        return new ViommuOptions(implementation, noBuffer, waitDepth, value, pageSizeMask, inputStart, inputEnd,
                domainStart, domainEnd, probeSize, features);
    }

    public ViommuOptions withFeatures(long value) {
        return new ViommuOptions(implementation, noBuffer, waitDepth, bootBypass, pageSizeMask, inputStart, inputEnd,
                domainStart, domainEnd, probeSize, value);
    }

    /** Whose answers the device gives where the specification and QEMU's device differ. */
    public enum Implementation {
        /**
         * The specification's device requirements, MUST and SHOULD alike: a malformed request is returned unwritten
         * (used length 0); ATTACH refuses nonzero reserved bytes (INVAL) and a bypass mismatch before detaching
         * anything; MAP checks alignment (RANGE); an UNMAP that would split a mapping removes nothing (RANGE); an
         * unattached endpoint faults with DOMAIN. Where the specification names no status or leaves the choice,
         * this model's choices: RANGE for a MAP outside {@code input_range} (or a domain outside
         * {@code domain_range}), FAULT for a MAP of memory the guest does not have, and the access's READ or WRITE
         * flag on every fault record (QEMU sets it only on permission faults).
         */
        SPEC,
        /**
         * QEMU's hw/virtio/virtio-iommu.c: a request without head or tail room breaks the device (virtio_error);
         * an unknown type is answered UNSUPP; ATTACH ignores reserved bytes and detaches before it checks bypass;
         * MAP checks neither alignment nor ranges; UNMAP removes the mappings it meets below the one it would split;
         * an endpoint never attached (or detached) faults with UNKNOWN; only permission faults carry READ/WRITE; a
         * PROBE whose buffer is too small is answered DEVERR; an event buffer under 24 bytes breaks the device.
         */
        QEMU
    }

    /** What the device does with a fault when the driver has left no buffer in the event queue. */
    public enum NoBuffer {
        /** The record is lost (QEMU mainline, which logs it once). */
        DROP,
        /** The record waits, up to {@link ViommuOptions#waitDepth()} of them, for the driver to add buffers. */
        WAIT
    }
}
