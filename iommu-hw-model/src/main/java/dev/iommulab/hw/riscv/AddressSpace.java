package dev.iommulab.hw.riscv;

import dev.iommulab.hw.pgtable.RiscvPagingMode;

/**
 * The page-table information the translate process hands to its step 17 (riscv-iommu "Process to
 * translate an IOVA"): the first stage ({@code iosatp} from {@code DC.fsc} or {@code PC.fsc}, with its
 * PSCID) and the G-stage ({@code DC.iohgatp}, with its GSCID). A null mode is {@code Bare}.
 *
 * @param sRoot root of the first-stage table: a GPA when the G-stage is not Bare
 * @param sum   {@code PC.ta.SUM} for supervisor transactions
 */
record AddressSpace(RiscvPagingMode gMode, long gRoot, int gscid, boolean gade, RiscvPagingMode sMode, long sRoot,
                    int pscid, boolean sade, boolean sum) {

    boolean gStage() {
        return gMode != null;
    }

    boolean firstStage() {
        return sMode != null;
    }

    /** The same G-stage with a Bare first stage (translated requests with T2GPA, Bare PDT). */
    AddressSpace withoutFirstStage() {
        return new AddressSpace(gMode, gRoot, gscid, gade, null, 0, 0, false, false);
    }

    /** The first stage {@code mode} at {@code root} with {@code pscid} and {@code sum}. */
    AddressSpace withFirstStage(RiscvPagingMode mode, long root, int newPscid, boolean newSum) {
        return new AddressSpace(gMode, gRoot, gscid, gade, mode, root, newPscid, sade, newSum);
    }

    /** First-stage MODE encodings 8/9/10; null for Bare or anything else. */
    static RiscvPagingMode firstStageMode(int encoding) {
        return RiscvPagingMode.of(encoding, false);
    }

    /** iohgatp MODE encodings 8/9/10 (fctl.GXL = 0); null for Bare or anything else. */
    static RiscvPagingMode gStageMode(int encoding) {
        return RiscvPagingMode.of(encoding, true);
    }
}
