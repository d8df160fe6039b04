package dev.iommulab.hw.iommu;

/**
 * The fields every vendor's fault record shares (reference/iommu-hardware.md §3.2): requester, PASID and
 * privilege, and the vendor's own reason code (VT-d FR, RISC-V CAUSE, SMMUv3 event ID, AMD event type). Access
 * type and address are encoded too differently to share (VT-d T and FI; RISC-V TTYP, iotval and iotval2).
 */
public interface FaultLogRecord {

    /** Requester ID (VT-d SID, RISC-V DID, SMMUv3 StreamID, AMD DeviceID). */
    int requesterId();

    boolean pasidPresent();

    /** The PASID, meaningful only when {@link #pasidPresent()}. */
    int pasid();

    /** Privileged-mode (supervisor) request. */
    boolean privileged();

    /** The vendor's reason code, as the record holds it. */
    int reasonCode();

    /** The PASID, or -1 when the request had none (as {@link HwFault#pasid()}). */
    default int pasidOrNone() {
        return pasidPresent() ? pasid() : -1;
    }
}
