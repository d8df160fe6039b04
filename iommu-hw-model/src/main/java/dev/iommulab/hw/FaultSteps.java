package dev.iommulab.hw;

import dev.iommulab.hw.iommu.WalkStep;
import dev.iommulab.hw.riscv.RiscvCause;
import dev.iommulab.hw.viommu.ViommuFaultReason;
import dev.iommulab.hw.vtd.VtdFaultReason;

/**
 * The fault-reason taxonomy: for every vendor reason a model raises — VT-d fault reasons, RISC-V causes,
 * virtio-iommu reasons — the {@link WalkStep} of the translation it stopped at. One table, per model below; each row
 * is documented in docs/hardware-models.md ("Fault reasons by walk step") and tested.
 *
 * <p>Rules that decide the rows: a root, context, device-context or device-directory entry (fetch, presence,
 * reserved bits, configuration, and a request type the entry does not enable) is {@link WalkStep#DEVICE_CONTEXT};
 * a PASID directory or table entry (and a PASID beyond the table) is {@link WalkStep#PASID_TABLE}; the page table's
 * root pointer or fetch, and an input address beyond what the table translates, is {@link WalkStep#PAGE_TABLE_ROOT};
 * every other walk fetch, reserved bit, missing entry, accessed/dirty update and permission is
 * {@link WalkStep#PAGE_TABLE_ENTRY}. RISC-V's access faults (1, 5, 7) and page-table corruption (274) do not say which
 * level failed: they count as entries.
 */
public final class FaultSteps {

    /** The models whose reasons the table covers. */
    public enum Model {
        VTD, RISCV, VIRTIO_IOMMU
    }

    private FaultSteps() {
    }

    /** The step of {@code vendorCode} (a VT-d FR, a RISC-V CAUSE, a virtio-iommu reason) of {@code model}. */
    public static WalkStep of(Model model, int vendorCode) {
        return switch (model) {
            case VTD -> vtd(vendorCode);
            case RISCV -> riscv(vendorCode);
            case VIRTIO_IOMMU -> virtio(vendorCode);
        };
    }

    /** The step of a VT-d fault reason (Intel VT-d spec, Appendix A). */
    public static WalkStep of(VtdFaultReason reason) {
        return vtd(reason.code());
    }

    private static WalkStep vtd(int fr) {
        return switch (fr) {
            case 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x0d, 0x30, 0x31, 0x32, 0x38, 0x39, 0x3a, 0x40, 0x41, 0x42,
                    0x43, 0x44, 0x45, 0x47, 0x48 -> WalkStep.DEVICE_CONTEXT;
            case 0x46, 0x50, 0x51, 0x52, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d -> WalkStep.PASID_TABLE;
            case 0x04, 0x73, 0x74, 0x75, 0x7b, 0x80, 0x83 -> WalkStep.PAGE_TABLE_ROOT;
            case 0x05, 0x06, 0x07, 0x0c, 0x70, 0x71, 0x72, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7c, 0x81, 0x82, 0x84, 0x85,
                    0x86, 0x90, 0x91 -> WalkStep.PAGE_TABLE_ENTRY;
            default -> WalkStep.NONE;
        };
    }

    private static WalkStep riscv(int cause) {
        return switch (cause) {
            case RiscvCause.ALL_INBOUND_DISALLOWED, RiscvCause.DDT_LOAD_ACCESS_FAULT, RiscvCause.DDT_NOT_VALID,
                    RiscvCause.DDT_MISCONFIGURED, RiscvCause.TRANSACTION_TYPE_DISALLOWED,
                    RiscvCause.DDT_DATA_CORRUPTION -> WalkStep.DEVICE_CONTEXT;
            case RiscvCause.PDT_LOAD_ACCESS_FAULT, RiscvCause.PDT_NOT_VALID, RiscvCause.PDT_MISCONFIGURED,
                    RiscvCause.PDT_DATA_CORRUPTION -> WalkStep.PASID_TABLE;
            case RiscvCause.INSTRUCTION_ACCESS_FAULT, RiscvCause.READ_ACCESS_FAULT, RiscvCause.WRITE_ACCESS_FAULT,
                    RiscvCause.INSTRUCTION_PAGE_FAULT, RiscvCause.READ_PAGE_FAULT, RiscvCause.WRITE_PAGE_FAULT,
                    RiscvCause.INSTRUCTION_GUEST_PAGE_FAULT, RiscvCause.READ_GUEST_PAGE_FAULT,
                    RiscvCause.WRITE_GUEST_PAGE_FAULT, RiscvCause.PT_DATA_CORRUPTION -> WalkStep.PAGE_TABLE_ENTRY;
            default -> WalkStep.NONE;
        };
    }

    /** A virtio-iommu reason: not attached is the domain's (the context's) business, not mapped the entry's. */
    private static WalkStep virtio(int reason) {
        if (reason == ViommuFaultReason.DOMAIN.code()) {
            return WalkStep.DEVICE_CONTEXT;
        }
        return reason == ViommuFaultReason.MAPPING.code() ? WalkStep.PAGE_TABLE_ENTRY : WalkStep.NONE;
    }
}
