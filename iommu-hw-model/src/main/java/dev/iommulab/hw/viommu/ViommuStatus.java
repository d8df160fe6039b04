package dev.iommulab.hw.viommu;

/**
 * The status a virtio-iommu writes in a request's tail ({@code VIRTIO_IOMMU_S_*}, virtio 1.x §5.13.6 Device
 * operations). The guest driver turns it into an errno in viommu_get_req_errno().
 */
public enum ViommuStatus {
    /** The request succeeded. */
    OK,
    /** Virtio communication error. */
    IOERR,
    /** Unsupported request. */
    UNSUPP,
    /** Internal device error. */
    DEVERR,
    /** Invalid parameters. */
    INVAL,
    /** Out-of-range parameters. */
    RANGE,
    /** Entry not found. */
    NOENT,
    /** Bad address. */
    FAULT,
    /** Insufficient resources. */
    NOMEM;

    /** The byte written in {@code struct virtio_iommu_req_tail}. */
    public int code() {
        return ordinal();
    }

    /** The status of {@code code}, or null for a value the spec does not define. */
    public static ViommuStatus of(int code) {
        return code >= 0 && code < values().length ? values()[code] : null;
    }
}
