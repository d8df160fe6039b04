package dev.iommulab.hw.iommu;

/** PCIe PRG Response Codes as a function interprets them. */
public enum PrgResponseCode {
    /** 0000b: all pages of the group are resident; retry the translation. */
    SUCCESS(0x0),
    /** 0001b: at least one page cannot be made accessible; do not retry. */
    INVALID_REQUEST(0x1),
    /** 1111b, and every unused code 0010b..1110b: disables PRI at the function. */
    RESPONSE_FAILURE(0xf);

    private final int wire;

    PrgResponseCode(int wire) {
        this.wire = wire;
    }

    public int wire() {
        return wire;
    }

    public static PrgResponseCode fromWire(int code) {
        return switch (code & 0xf) {
            case 0x0 -> SUCCESS;
            case 0x1 -> INVALID_REQUEST;
            default -> RESPONSE_FAILURE;
        };
    }
}
