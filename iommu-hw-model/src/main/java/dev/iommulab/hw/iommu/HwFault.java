package dev.iommulab.hw.iommu;

import dev.iommulab.hw.pgtable.Access;
import java.util.Objects;

/**
 * A fault the IOMMU detected, whether or not a record of it reached software.
 *
 * @param pasid      the PASID, or -1 when the request had none
 * @param vendorCode the model's own code (VT-d FR, RISC-V CAUSE, ...)
 * @param recorded   false when the record was lost to overflow or suppressed (FPD, DTF)
 */
public record HwFault(long atNs, int rid, int pasid, long addr, Access access, HwFaultReason reason,
                      int vendorCode, boolean recorded) {

    public HwFault {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(reason, "reason");
    }
}
