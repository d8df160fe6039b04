package dev.iommulab.hw.vtd;

import dev.iommulab.hw.pgtable.VtdSecondStageTable;

/**
 * A present scalable-mode PASID table entry as the unit uses it (VT-d spec §9.6; the kernel's
 * {@code struct pasid_entry} and pasid.h accessors), read from memory or from the PASID cache.
 *
 * @param fpd FPD of the context entry, the PASID directory entry or this entry (any of them)
 */
record PasidEntry(long qw0, long qw1, long qw2, boolean fpd) {

    int pgtt() {
        return (int) ((qw0 & VtdEntries.PE_PGTT_MASK) >>> VtdEntries.PE_PGTT_SHIFT);
    }

    int did() {
        return (int) (qw1 & VtdEntries.PE_DID_MASK);
    }

    /** Second-stage levels from AW, or -1 when AW is reserved. */
    int slLevels() {
        return VtdSecondStageTable.levelsForAw((int) ((qw0 & VtdEntries.PE_AW_MASK) >>> VtdEntries.PE_AW_SHIFT));
    }

    long slptptr() {
        return qw0 & VtdEntries.ADDR_MASK;
    }

    boolean slee() {
        return (qw0 & VtdEntries.PE_SLEE) != 0;
    }

    boolean ssade() {
        return (qw0 & VtdEntries.PE_SSADE) != 0;
    }

    boolean pwsnp() {
        return (qw1 & VtdEntries.PE_PWSNP) != 0;
    }

    long flptptr() {
        return qw2 & VtdEntries.ADDR_MASK;
    }

    /** First-stage levels from FLPM (0 → 4, 1 → 5), or -1 when FLPM is reserved. */
    int flLevels() {
        long flpm = (qw2 & VtdEntries.PE_FLPM_MASK) >>> VtdEntries.PE_FLPM_SHIFT;
        return flpm == 0 ? 4 : flpm == 1 ? 5 : -1;
    }

    boolean sre() {
        return (qw2 & VtdEntries.PE_SRE) != 0;
    }

    boolean ere() {
        return (qw2 & VtdEntries.PE_ERE) != 0;
    }

    boolean usesFirstStage() {
        return pgtt() == VtdEntries.PGTT_FIRST_STAGE || pgtt() == VtdEntries.PGTT_NESTED;
    }

    boolean usesSecondStage() {
        return pgtt() == VtdEntries.PGTT_SECOND_STAGE || pgtt() == VtdEntries.PGTT_NESTED;
    }
}
