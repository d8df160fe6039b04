package dev.iommulab.hw.riscv;

/**
 * Fault-record {@code CAUSE} codes (riscv-iommu "In-memory queue interface", table "Fault record CAUSE
 * field encodings"; reference/iommu-hardware.md §2.4.1-2.4.2) and the two properties the model needs of
 * each: whether {@code DC.tc.DTF = 1} suppresses its record, and which ATS completion it produces
 * (section "PCIe ATS translation request handling").
 */
public final class RiscvCause {

    public static final int INSTRUCTION_ACCESS_FAULT = 1;
    public static final int READ_ACCESS_FAULT = 5;
    public static final int WRITE_ACCESS_FAULT = 7;
    public static final int INSTRUCTION_PAGE_FAULT = 12;
    public static final int READ_PAGE_FAULT = 13;
    public static final int WRITE_PAGE_FAULT = 15;
    public static final int INSTRUCTION_GUEST_PAGE_FAULT = 20;
    public static final int READ_GUEST_PAGE_FAULT = 21;
    public static final int WRITE_GUEST_PAGE_FAULT = 23;
    public static final int ALL_INBOUND_DISALLOWED = 256;
    public static final int DDT_LOAD_ACCESS_FAULT = 257;
    public static final int DDT_NOT_VALID = 258;
    public static final int DDT_MISCONFIGURED = 259;
    public static final int TRANSACTION_TYPE_DISALLOWED = 260;
    public static final int PDT_LOAD_ACCESS_FAULT = 265;
    public static final int PDT_NOT_VALID = 266;
    public static final int PDT_MISCONFIGURED = 267;
    public static final int DDT_DATA_CORRUPTION = 268;
    public static final int PDT_DATA_CORRUPTION = 269;
    public static final int INTERNAL_DATA_PATH_ERROR = 272;
    public static final int MSI_WRITE_ACCESS_FAULT = 273;
    public static final int PT_DATA_CORRUPTION = 274;

    /** The ATS completion a fault of a Translation Request turns into. */
    public enum AtsOutcome {
        /** Success with R = W = 0, no fault record. */
        SUCCESS_NO_ACCESS,
        /** Unsupported Request, with a fault record. */
        UNSUPPORTED_REQUEST,
        /** Completer Abort, with a fault record. */
        COMPLETER_ABORT
    }

    private RiscvCause() {
    }

    /**
     * Whether a record of {@code cause} is still written when {@code DC.tc.DTF} is 1: only for the causes
     * that are not about the translation of the transaction (256-259, 268, 272, 273).
     */
    public static boolean reportedWhenDtf(int cause) {
        return switch (cause) {
            case ALL_INBOUND_DISALLOWED, DDT_LOAD_ACCESS_FAULT, DDT_NOT_VALID, DDT_MISCONFIGURED, DDT_DATA_CORRUPTION,
                    INTERNAL_DATA_PATH_ERROR, MSI_WRITE_ACCESS_FAULT -> true;
            default -> false;
        };
    }

    /** The completion of an ATS Translation Request that stopped with {@code cause}. */
    public static AtsOutcome atsOutcome(int cause) {
        return switch (cause) {
            case ALL_INBOUND_DISALLOWED, DDT_LOAD_ACCESS_FAULT, DDT_NOT_VALID, DDT_MISCONFIGURED,
                    TRANSACTION_TYPE_DISALLOWED -> AtsOutcome.UNSUPPORTED_REQUEST;
            case INSTRUCTION_PAGE_FAULT, READ_PAGE_FAULT, WRITE_PAGE_FAULT, INSTRUCTION_GUEST_PAGE_FAULT,
                    READ_GUEST_PAGE_FAULT, WRITE_GUEST_PAGE_FAULT, PDT_NOT_VALID -> AtsOutcome.SUCCESS_NO_ACCESS;
            default -> AtsOutcome.COMPLETER_ABORT;
        };
    }
}
