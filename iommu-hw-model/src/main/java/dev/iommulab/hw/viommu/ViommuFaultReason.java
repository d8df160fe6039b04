package dev.iommulab.hw.viommu;

/** The {@code reason} byte of a virtio-iommu fault record ({@code VIRTIO_IOMMU_FAULT_R_*}, virtio 1.x §5.13.6.8). */
public enum ViommuFaultReason {
    /** An internal error, or anything that is not one of the others. */
    UNKNOWN,
    /** The endpoint is not attached to any domain. */
    DOMAIN,
    /** The address is not mapped, or the mapping does not allow the access. */
    MAPPING;

    public int code() {
        return ordinal();
    }
}
