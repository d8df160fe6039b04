package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Nested translation (PGTT 011b): the first-stage output and every first-stage table address are
 * translated by the second stage; faults 0x74-0x77; A/D in both stages. Derives from
 * reference/iommu-hardware.md §2.1.1 (PGTT values, fault list 0x74-0x77 "nested address/permission
 * errors") and the VT-d spec's nested translation (§3.8).
 */
class NestedTranslationTest {

    private static final long PA = 0x0080_0000L;
    private static final long RW = VtdSecondStageTable.R | VtdSecondStageTable.W;
    /** Guest-physical addresses sit this far above their host frames. */
    private static final long GPA_OFFSET = 0x0000_0001_0000_0000L;
    private static final long VA = 0x0000_7f00_0000_0000L;

    private final VtdFixture f = new VtdFixture().attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE);

    private DmaCompletion dma(long addr, Access access) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, 4, access, false,
                access == Access.WRITE ? WriteData.of(new byte[] {1, 2, 3, 4}) : null));
    }


    /** First-stage tables live at host frames; the first stage sees them at GPA = HPA + offset. */
    private final List<Long> flTableHpas = new ArrayList<>();
    /** The second stage of the nested tests: the fixture's 4-level table unless a test picks another. */
    private VtdSecondStageTable sl = f.secondStage;
    private long slTop = f.slRoot;
    private long aw = 2;

    private long newFlTable() {
        long hpa = f.allocateFrame();
        slMap(hpa + GPA_OFFSET, hpa, RW);
        flTableHpas.add(hpa);
        return hpa;
    }

    /** Maps {@code va → gpa} in a first-stage table written in guest-physical space; returns the leaf's HPA. */
    private long flMap(long flRootHpa, long va, long gpa, long flags) {
        long table = flRootHpa;
        for (int level = 4; level > 1; level--) {
            long entry = table + 8L * X86Pte.index(va, level);
            long pte = f.memory.readLong(entry);
            if (!X86Pte.present(pte)) {
                long next = newFlTable();
                pte = (next + GPA_OFFSET) | X86Pte.P | X86Pte.RW | X86Pte.US;
                f.memory.writeLong(entry, pte);
            }
            table = (pte & X86Pte.ADDR_MASK) - GPA_OFFSET;
        }
        long leaf = table + 8L * X86Pte.index(va, 1);
        f.memory.writeLong(leaf, gpa | flags | X86Pte.P);
        return leaf;
    }

    private long slMap(long gpa, long hpa, long flags) {
        return sl.map(slTop, gpa, hpa, 4096, flags, f::allocateFrame);
    }

    private long nestedPasid(long flRootGpa, long qw0Flags) {
        return f.writePasidEntry(PASID, VtdEntries.PRESENT | slTop | aw << 2
                | (long) VtdEntries.PGTT_NESTED << VtdEntries.PE_PGTT_SHIFT | qw0Flags, flRootGpa);
    }

    @Test
    void nested_mappedPage_firstStageGpaTranslatedBySecondStageIncludingTableAddresses() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        long gpa = 0x0000_0003_0000_0000L;
        long leaf = flMap(flRoot, VA, gpa, X86Pte.RW | X86Pte.US);
        f.mapSecondStage(gpa, PA, RW);

        assertThat(dma(VA + 4, Access.WRITE).ok()).isTrue();

        assertThat(f.memory.read(PA + 4, 4)).containsExactly(1, 2, 3, 4);
        assertThat(f.faults).isEmpty();
        assertThat(f.memory.readLong(leaf) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A | X86Pte.D);
        for (long table : flTableHpas.subList(0, 3)) {
            long entry = table + 8L * X86Pte.index(VA, 4 - flTableHpas.indexOf(table));
            assertThat(f.memory.readLong(entry) & X86Pte.A).as("A in every first-stage level").isNotZero();
        }
    }

    @Test
    void nested_translationRequest_combinesBothStagesRights() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        long gpa = 0x0000_0003_0000_0000L;
        flMap(flRoot, VA, gpa, X86Pte.RW | X86Pte.US);
        f.mapSecondStage(gpa, PA, VtdSecondStageTable.R);

        AtsCompletion c = f.unit.translationRequest(new AtsTranslationRequest(RID, true, PASID, VA, false, false,
                false));

        assertThat(c.read()).isTrue();
        assertThat(c.write()).as("first stage RW, second stage R").isFalse();
        assertThat(c.translatedAddr()).isEqualTo(PA);
    }

    @Test
    void nested_firstStageRootAboveSecondStageWidth_fault0x74() {
        nestedPasid(1L << 48, 0);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x74);
    }

    @Test
    void nested_secondStageDeniesReadOfFirstStageRoot_fault0x75() {
        long flRoot = f.allocateFrame();
        slMap(flRoot + GPA_OFFSET, flRoot, VtdSecondStageTable.W);
        nestedPasid(flRoot + GPA_OFFSET, 0);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x75);
    }

    @Test
    void nested_lowerFirstStageTableNotMappedBySecondStage_fault0x76() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        f.memory.writeLong(flRoot + 8L * X86Pte.index(VA, 4), 0x0000_0005_0000_0000L | X86Pte.P | X86Pte.RW
                | X86Pte.US);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x76);
    }

    /** Setting A in a first-stage entry is a write through the second stage: read-only there → 0x77. */
    @Test
    void nested_firstStageTableReadOnlyInSecondStage_fault0x77OnAccessedUpdate() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        long gpa = 0x0000_0003_0000_0000L;
        flMap(flRoot, VA, gpa, X86Pte.RW | X86Pte.US);
        f.mapSecondStage(gpa, PA, RW);
        long lastTable = flTableHpas.get(flTableHpas.size() - 1);
        slMap(lastTable + GPA_OFFSET, lastTable, VtdSecondStageTable.R);

        assertThat(dma(VA, Access.READ).ok()).isFalse();

        assertThat(f.faultCodes()).containsExactly(0x77);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.PERMISSION_WRITE);
    }

    @Test
    void nested_outputGpaNotMapped_fault0x79() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        flMap(flRoot, VA, 0x0000_0003_0000_0000L, X86Pte.RW | X86Pte.US);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x79);
    }

    /** A 3-level second stage (AW 001b) takes 39-bit GPAs: a first-stage page at 2^40 is beyond it, 0x74. */
    @Test
    void nested_outputGpaAboveSecondStageWidth_fault0x74() {
        sl = new VtdSecondStageTable(f.memory, 3, 46);
        slTop = f.allocateFrame();
        aw = 1;
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        flMap(flRoot, VA, 1L << 40, X86Pte.RW | X86Pte.US);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x74);
    }

    @Test
    void nested_userRequestToSupervisorFirstStagePage_fault0x81() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, 0);
        long gpa = 0x0000_0003_0000_0000L;
        flMap(flRoot, VA, gpa, X86Pte.RW);
        f.mapSecondStage(gpa, PA, RW);

        dma(VA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x81);
    }

    /** SSADE in nested mode: the second-stage entries of the data page and of written tables get A/D. */
    @Test
    void nested_ssade_setsSecondStageAccessedDirtyOfPageAndTables() {
        long flRoot = newFlTable();
        nestedPasid(flRoot + GPA_OFFSET, VtdEntries.PE_SSADE);
        long gpa = 0x0000_0003_0000_0000L;
        flMap(flRoot, VA, gpa, X86Pte.RW | X86Pte.US);
        long dataPte = f.mapSecondStage(gpa, PA, RW);

        dma(VA, Access.WRITE);

        assertThat(f.memory.readLong(dataPte) & (VtdSecondStageTable.A | VtdSecondStageTable.D))
                .isEqualTo(VtdSecondStageTable.A | VtdSecondStageTable.D);
        long rootPte = f.secondStage.walk(f.slRoot, flRoot + GPA_OFFSET).leaf().pteAddr();
        assertThat(f.memory.readLong(rootPte) & VtdSecondStageTable.D).as("the FL-PML4 page was written").isNotZero();
    }
}
