package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86Pte;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * ATS translation requests and untranslated memory requests through {@link VtdUnit} in scalable mode
 * with first-stage translation. Derives from reference/iommu-hardware.md §1.3 (ATS completion
 * semantics), §2.1.1 (structures and fault reasons), §2.1.6 (DTE gates ATS, fault 0x44) and DESIGN.md
 * §3 step 2.
 */
class VtdUnitTranslationTest {

    private static final long VA = 0x0000_7fff_0000_0000L;
    private static final long PA = 0x0080_0000L;

    private final VtdFixture f = new VtdFixture();

    private static AtsTranslationRequest atsRequest(long addr, boolean noWrite) {
        return new AtsTranslationRequest(RID, true, PASID, addr, noWrite, false, false);
    }

    private static DmaRequest read(long addr, int length) {
        return new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, length, Access.READ, false, null);
    }

    private static DmaRequest write(long addr, byte[] data) {
        return new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, data.length, Access.WRITE, false,
                WriteData.of(data));
    }

    /** §1.3 / DESIGN.md §3 step 2: a not-present page gives Success with R = W = 0 and no fault record. */
    @Test
    void translationRequest_notPresentPage_successWithNoRightsAndNoFault() {
        f.attachSvaDevice();
        f.map(VA, PA, X86Pte.RW | X86Pte.US);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA + 0x1000, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(completion.read()).isFalse();
        assertThat(completion.write()).isFalse();
        assertThat(f.faults).isEmpty();
    }

    /** §1.3 and §2.1.1 (A/D): a present user RW page is granted R = W = 1; the walk sets A and D. */
    @Test
    void translationRequest_presentUserRwPage_grantsReadWriteAndSetsAccessedDirty() {
        f.attachSvaDevice();
        long pte = f.map(VA, PA, X86Pte.RW | X86Pte.US);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA + 0x234, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(completion.read()).isTrue();
        assertThat(completion.write()).isTrue();
        assertThat(completion.translatedAddr()).isEqualTo(PA);
        assertThat(completion.pageSize()).isEqualTo(4096);
        assertThat(f.memory.readLong(pte) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A | X86Pte.D);
        assertThat(f.faults).isEmpty();
    }

    /** A read-only (NW) translation request is granted R only and marks the page accessed, not dirty. */
    @Test
    void translationRequest_noWriteRequest_grantsReadOnlyAndSetsOnlyAccessed() {
        f.attachSvaDevice();
        long pte = f.map(VA, PA, X86Pte.RW | X86Pte.US);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, true));

        assertThat(completion.read()).isTrue();
        assertThat(completion.write()).isFalse();
        assertThat(f.memory.readLong(pte) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A);
    }

    /** §1.3 partial permissions: a read-only page is granted R = 1, W = 0 to a write request. */
    @Test
    void translationRequest_readOnlyPage_grantsReadOnly() {
        f.attachSvaDevice();
        f.map(VA, PA, X86Pte.US);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(completion.read()).isTrue();
        assertThat(completion.write()).isFalse();
        assertThat(f.faults).isEmpty();
    }

    /** A supervisor-only page is not accessible to a user-mode request: Success R = W = 0. */
    @Test
    void translationRequest_supervisorPageFromUserRequest_successWithNoRights() {
        f.attachSvaDevice();
        f.map(VA, PA, X86Pte.RW);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(completion.read()).isFalse();
        assertThat(completion.write()).isFalse();
    }

    /** §2.1.6: with DTE clear in the scalable context entry, ATS is blocked: UR and fault 0x44. */
    @Test
    void translationRequest_dteClear_completesUrAndReportsFault0x44() {
        f.attach(VtdEntries.CTX_PASIDE | VtdEntries.CTX_PRE);
        f.map(VA, PA, X86Pte.RW | X86Pte.US);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.UR);
        assertThat(completion.read()).isFalse();
        assertThat(f.faults).singleElement().satisfies(fault -> {
            assertThat(fault.vendorCode()).isEqualTo(0x44);
            assertThat(fault.reason()).isEqualTo(HwFaultReason.REQUEST_TYPE_DISALLOWED);
            assertThat(fault.rid()).isEqualTo(RID);
            assertThat(fault.pasid()).isEqualTo(PASID);
            assertThat(fault.addr()).isEqualTo(VA);
            assertThat(fault.access()).isEqualTo(Access.WRITE);
            assertThat(fault.recorded()).isTrue();
        });
    }

    /** §2.1.1 qualified faults: FPD in the context entry suppresses the record of 0x44, not the UR. */
    @Test
    void translationRequest_dteClearWithFpd_faultDetectedButNotRecorded() {
        f.attach(VtdEntries.FPD | VtdEntries.CTX_PASIDE);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, true));

        assertThat(completion.status()).isEqualTo(CompletionStatus.UR);
        assertThat(f.faults).singleElement().satisfies(fault -> {
            assertThat(fault.vendorCode()).isEqualTo(0x44);
            assertThat(fault.recorded()).isFalse();
        });
    }

    /**
     * §2.1.1 fault 0x59: a PASID entry with P clear blocks the request; nothing is granted. The completion is UR:
     * the reference leaves VT-d's ATS completion status [UNVERIFIED] and says to assume the common pattern of
     * §1.3 (§2.1.6, §3.3), where UR answers a permanent configuration problem of the requester and CA a
     * configuration error met while walking (reserved bits, a fetch abort: see
     * {@link #translationRequest_reservedBitsInPte_completerAbort}). A PASID whose entry is not present has nothing
     * to walk, so it is the first kind.
     */
    @Test
    @DisplayName("iommu-hardware §1.3, §2.1.6: ATS for a PASID entry with P clear completes UR with fault 0x59")
    void translationRequest_pasidEntryNotPresent_errorCompletionAndFault0x59() {
        f.attachSvaDevice();
        f.memory.writeLong(f.pasidEntryAddr, 0);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.UR);
        assertThat(completion.grants(false, false)).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x59);
    }

    /** §2.1.1 fault 0x45: a PASID-tagged request to a context with PASIDE clear is blocked. */
    @Test
    void translationRequest_pasidRequestWithPasideClear_reportsFault0x45() {
        f.attach(VtdEntries.CTX_DTE);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isNotEqualTo(CompletionStatus.SUCCESS);
        assertThat(f.faultCodes()).containsExactly(0x45);
    }

    /** §1.3: CA is the completion for a configuration error while walking (reserved bits in a PTE). */
    @Test
    void translationRequest_reservedBitsInPte_completerAbort() {
        f.attachSvaDevice();
        long pte = f.map(VA, PA, X86Pte.RW | X86Pte.US);
        f.memory.writeLong(pte, f.memory.readLong(pte) | 1L << 50);

        AtsCompletion completion = f.unit.translationRequest(atsRequest(VA, false));

        assertThat(completion.status()).isEqualTo(CompletionStatus.CA);
    }

    /** An untranslated read of a mapped page returns its bytes and sets A in the PTE. */
    @Test
    void memoryRequest_untranslatedReadOfMappedPage_returnsMemoryBytes() {
        f.attachSvaDevice();
        long pte = f.map(VA, PA, X86Pte.RW | X86Pte.US);
        f.memory.write(PA + 0x10, new byte[] {9, 8, 7, 6});

        DmaCompletion completion = f.unit.memoryRequest(read(VA + 0x10, 4));

        assertThat(completion.ok()).isTrue();
        assertThat(completion.data()).containsExactly(9, 8, 7, 6);
        assertThat(f.memory.readLong(pte) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A);
    }

    /** Scenario 47: an untranslated write to a not-present page is blocked with fault 0x71; memory unchanged. */
    @Test
    void memoryRequest_untranslatedWriteToNotPresentPage_blockedWithFault0x71() {
        f.attachSvaDevice();
        f.map(VA, PA, X86Pte.RW | X86Pte.US);

        DmaCompletion completion = f.unit.memoryRequest(write(VA + 0x1000, new byte[] {1, 2, 3, 4}));

        assertThat(completion.ok()).isFalse();
        assertThat(f.memory.readInt(PA + 0x1000)).isZero();
        assertThat(f.faults).singleElement().satisfies(fault -> {
            assertThat(fault.vendorCode()).isEqualTo(0x71);
            assertThat(fault.reason()).isEqualTo(HwFaultReason.TRANSLATION_NOT_PRESENT);
            assertThat(fault.access()).isEqualTo(Access.WRITE);
            assertThat(fault.addr()).isEqualTo(VA + 0x1000);
        });
    }

    /** §2.1.1 fault 0x85: a write to a read-only first-stage page is blocked; memory unchanged. */
    @Test
    void memoryRequest_writeToReadOnlyPage_blockedWithFault0x85() {
        f.attachSvaDevice();
        f.map(VA, PA, X86Pte.US);

        DmaCompletion completion = f.unit.memoryRequest(write(VA, new byte[] {1, 2, 3, 4}));

        assertThat(completion.ok()).isFalse();
        assertThat(f.memory.readInt(PA)).isZero();
        assertThat(f.faults).extracting(HwFault::vendorCode).containsExactly(0x85);
    }

    /** §2.1.6: translated requests need DTE; with it they go straight to the given address. */
    @Test
    void memoryRequest_translatedWriteWithDte_writesGivenAddress() {
        f.attachSvaDevice();
        byte[] data = {5, 6, 7, 8};

        DmaCompletion completion = f.unit.memoryRequest(new DmaRequest(RID, AddressType.TRANSLATED, true, PASID,
                PA + 0x20, 4, Access.WRITE, false, WriteData.of(data)));

        assertThat(completion.ok()).isTrue();
        assertThat(f.memory.read(PA + 0x20, 4)).isEqualTo(data);
        assertThat(f.faults).isEmpty();
    }
}
