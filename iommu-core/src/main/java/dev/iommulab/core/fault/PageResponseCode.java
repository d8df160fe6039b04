package dev.iommulab.core.fault;

/** {@code enum iommu_page_response_code} (include/linux/iommu.h). */
public enum PageResponseCode {
    /** The fault was handled and the page is resident; the device retries. */
    SUCCESS(0),
    /** Could not handle this fault; do not retry. PCI Invalid Request. */
    INVALID(1),
    /** General error; the device should stop sending page requests. PCI Response Failure. */
    FAILURE(2);

    private final int value;

    PageResponseCode(int value) {
        this.value = value;
    }

    /** The kernel's numeric value, which VT-d puts on the wire unchanged. */
    public int value() {
        return value;
    }
}
