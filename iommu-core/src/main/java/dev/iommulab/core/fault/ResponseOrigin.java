package dev.iommulab.core.fault;

/** Who answered a page request group (SCENARIO-FORMAT.md {@code origin}). */
public enum ResponseOrigin {
    SVA("sva"),
    IOMMUFD("iommufd"),
    ABORT("abort"),
    BAD_SETUP("bad-setup"),
    REMOVE_DEVICE("remove-device"),
    AUTO_RESPONSE("auto-response"),
    DRIVER("driver"),
    HARDWARE("hardware"),
    /** io-pgfault refused a group by policy ({@code iopf.group-allocation: bounded-pool}) and answered INVALID. */
    BACK_PRESSURE("back-pressure");

    private final String label;

    ResponseOrigin(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
