package dev.iommulab.hw.iommu;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * A fault the IOMMU detected, whether or not a record of it reached software.
 *
 * @param pasid      the PASID, or -1 when the request had none
 * @param vendorCode the model's own code (VT-d FR, RISC-V CAUSE, ...)
 * @param recorded   false when the record was lost to overflow or suppressed (FPD, DTF)
 * @param coalesced  true when the fault got no record of its own but was counted in a pending record of the same
 *                   device and reason (the lab's invented option {@code fault-quota}); never with {@code recorded}
 */
public record HwFault(long atNs, int rid, int pasid, long addr, Access access, HwFaultReason reason,
                      int vendorCode, boolean recorded, boolean coalesced) {

    public HwFault {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(reason, "reason");
        if (recorded && coalesced) {
            throw new IllegalArgumentException("a recorded fault is not coalesced");
        }
    }

    /**
     * The fault a vendor's fault {@code record} describes (requester, PASID, vendor code from the record), detected
     * at {@code atNs} for an access of {@code access} to {@code addr}.
     */
    public static HwFault of(long atNs, FaultLogRecord record, long addr, Access access, HwFaultReason reason,
                             boolean recorded, boolean coalesced) {
        return new HwFault(atNs, record.requesterId(), record.pasidOrNone(), addr, access, reason, record.reasonCode(),
                recorded, coalesced);
    }

    /** A fault that was recorded, or not, and never coalesced (every real model). */
    public HwFault(long atNs, int rid, int pasid, long addr, Access access, HwFaultReason reason, int vendorCode,
                   boolean recorded) {
        this(atNs, rid, pasid, addr, access, reason, vendorCode, recorded, false);
    }
}
