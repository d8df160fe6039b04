package dev.iommulab.hw.pgtable;

import java.util.Objects;

/**
 * What a RISC-V page-table walk checks the leaf against: the access, the privilege of the
 * transaction and the device context's A/D-update control. Counterpart of the inputs of the RISC-V
 * IOMMU "Process to translate an IOVA" (riscv-iommu, Data Structures chapter) to the privileged
 * spec's translation process.
 *
 * @param access            the original access type: read, write/AMO, or read-for-execute
 * @param supervisor        the transaction requests supervisor privilege (a PASID with
 *                          "Privilege Mode Requested"); IOMMU requests are user otherwise. Ignored by
 *                          a G-stage walk, which always checks U as for a user access
 * @param sum               {@code PC.ta.SUM}: supervisor access to U = 1 pages (never for execute);
 *                          only meaningful with {@code supervisor}
 * @param hardwareAdUpdate  {@code DC.tc.SADE} for a first-stage walk, {@code DC.tc.GADE} for a
 *                          G-stage walk: set A (and D on a write) in memory instead of faulting
 * @param checkRwx          check R/W/X against {@code access} (false for a PCIe ATS Translation
 *                          Request, whose completion reports the rights instead of faulting)
 */
public record RiscvWalkRequest(Access access, boolean supervisor, boolean sum, boolean hardwareAdUpdate,
                               boolean checkRwx) {

    public RiscvWalkRequest {
        Objects.requireNonNull(access, "access");
        if (sum && !supervisor) {
            throw new IllegalArgumentException("sum applies only to supervisor requests");
        }
    }

    /** A user (unprivileged) request with R/W/X checking and no hardware A/D update. */
    public static RiscvWalkRequest user(Access access) {
        return new RiscvWalkRequest(access, false, false, false, true);
    }

    /** A supervisor request with the process context's {@code sum}, R/W/X checking, no A/D update. */
    public static RiscvWalkRequest supervisor(Access access, boolean sum) {
        return new RiscvWalkRequest(access, true, sum, false, true);
    }

    /** This request with hardware A/D update ({@code SADE}/{@code GADE}) set to {@code enabled}. */
    public RiscvWalkRequest withHardwareAdUpdate(boolean enabled) {
        return new RiscvWalkRequest(access, supervisor, sum, enabled, checkRwx);
    }

    /** This request without R/W/X checking, as for a PCIe ATS Translation Request. */
    public RiscvWalkRequest withoutRwxCheck() {
        return new RiscvWalkRequest(access, supervisor, sum, hardwareAdUpdate, false);
    }
}
