package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Fault processing disable and the documented qualified set (reference/iommu-hardware.md §2.1.1,
 * QEMU vtd_qualified_faults[], [PARTIAL]): FPD suppresses the record of a qualified fault, never the
 * blocking of the request; faults found before an FPD-carrying entry could be used are always recorded.
 * Scenario 31, and the kernel's {@code fault_ignore} teardown (linux-fault-stack.md §4.3: a cleared PASID
 * entry left with FPD set).
 */
class FpdQualifiedFaultTest {

    private static final long IOVA = 0x0000_0001_0000_0000L;

    private final VtdFixture f = new VtdFixture();

    private DmaCompletion read(long addr) {
        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, 4,
                Access.READ, false, null));
        f.settle();
        return c;
    }

    /** Scenario 31: context FPD = 1 and a non-present second-level entry: blocked, nothing recorded. */
    @Test
    void scenario31_fpdContextNonPresentSecondLevelEntry_blockedAndNotRecorded() {
        f.attach(VtdEntries.FPD | VtdEntries.CTX_PASIDE);
        f.writeSecondStagePasidEntry(0);

        DmaCompletion c = read(IOVA);

        assertThat(c.ok()).isFalse();
        assertThat(f.faults).singleElement().satisfies(x -> {
            assertThat(x.vendorCode()).isEqualTo(0x79);
            assertThat(x.recorded()).isFalse();
        });
        assertThat(f.frcd(0)).isNull();
        assertThat(f.fsts() & VtdRegs.FSTS_PPF).isZero();
        assertThat(f.faultEvents).isZero();
    }

    /** Scenario 31: the root-table access itself fails: recorded anyway (not qualified). */
    @Test
    void scenario31_fpdContextRootTableAccessFails_recordedAnyway() {
        f.attach(VtdEntries.FPD | VtdEntries.CTX_PASIDE);
        f.unit.writeReg(VtdRegs.RTADDR, (1L << 40) | VtdRegs.RTADDR_SMT);

        read(IOVA);

        assertThat(f.faults).singleElement().satisfies(x -> {
            assertThat(x.vendorCode()).isEqualTo(0x38);
            assertThat(x.recorded()).isTrue();
        });
        assertThat(f.frcd(0).reason()).isEqualTo(0x38);
    }

    /** Reserved bits in the entry that carries FPD: its FPD cannot be trusted, so 0x42 is recorded. */
    @Test
    void fpdContextWithReservedBits_recorded() {
        f.attach(VtdEntries.FPD | VtdEntries.CTX_PASIDE | 1L << 6);

        read(IOVA);

        assertThat(f.faults).singleElement().satisfies(x -> {
            assertThat(x.vendorCode()).isEqualTo(0x42);
            assertThat(x.recorded()).isTrue();
        });
    }

    /**
     * intel_pasid_tear_down_entry(fault_ignore = true) leaves the PASID entry not present with FPD set: a
     * request for that PASID is blocked (0x59) without a record, and a page request gets Invalid Request.
     */
    @Test
    void pasidEntryNotPresentWithFpd_faultNotRecordedPageRequestStillAnswered() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.memory.writeLong(f.pasidEntryAddr, VtdEntries.FPD);

        read(0x7000_0000L);
        f.unit.pageRequest(VtdFixture.pageRequest(3, true, 0x7000_0000L));
        f.settle();

        assertThat(f.faults).extracting(x -> x.vendorCode()).containsExactly(0x59, 0x59);
        assertThat(f.faults).allSatisfy(x -> assertThat(x.recorded()).isFalse());
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, 3, PrgResponseCode.INVALID_REQUEST.wire()));
    }

    /** FPD in the PASID directory entry governs the PASID-table-entry faults below it. */
    @Test
    void pasidDirectoryFpd_pasidEntryFaultNotRecorded() {
        f.attachSvaDevice();
        long dirEntry = f.pasidDir + (long) (PASID >>> 6) * 8;
        f.memory.writeLong(dirEntry, f.memory.readLong(dirEntry) | VtdEntries.FPD);
        f.memory.writeLong(f.pasidEntryAddr, 0);

        read(0x7000_0000L);

        assertThat(f.faults).singleElement().satisfies(x -> assertThat(x.recorded()).isFalse());
    }

    /** The documented set: what is not qualified is exactly what is found before FPD could be used. */
    @Test
    void qualifiedSet_nonQualifiedAreTtmRootFetchAndReservedOfFpdEntries() {
        Set<Integer> notQualified = EnumSet.allOf(VtdFaultReason.class).stream().filter(r -> !r.qualified())
                .map(VtdFaultReason::code).collect(Collectors.toSet());

        assertThat(notQualified).containsExactlyInAnyOrder(0x01, 0x08, 0x09, 0x0a, 0x0b, 0x30, 0x31, 0x32, 0x38,
                0x39, 0x3a, 0x40, 0x42, 0x50, 0x52, 0x58, 0x5a);
    }

    /** Second-stage table walk faults are qualified (QEMU: VTD_FR_PAGING_ENTRY_INV true). */
    @Test
    void fpdPasidEntry_secondStageFetchErrorNotRecorded() {
        f.attach(VtdEntries.CTX_PASIDE);
        f.writeSecondStagePasidEntry(VtdEntries.FPD);
        f.memory.writeLong(f.slRoot, (1L << 40) | VtdSecondStageTable.R | VtdSecondStageTable.W);

        read(IOVA);

        assertThat(f.faults).singleElement().satisfies(x -> {
            assertThat(x.vendorCode()).isEqualTo(0x78);
            assertThat(x.recorded()).isFalse();
        });
    }
}
