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
import org.junit.jupiter.api.Test;

/**
 * Second-stage-only translation (PGTT 010b): R/W/X with SLEE, 2 MiB pages, A/D with SSADE, faults
 * 0x78-0x7C and 0x82-0x86. Derives from reference/iommu-hardware.md §2.1.1 (PGTT values, second-level
 * format "R=W=0 ⇒ not present", fault list).
 */
class SecondStageTranslationTest {

    private static final long IOVA = 0x0000_0002_0000_0000L;
    private static final long PA = 0x0080_0000L;
    private static final long RW = VtdSecondStageTable.R | VtdSecondStageTable.W;

    private final VtdFixture f = new VtdFixture().attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE);

    private DmaCompletion dma(long addr, Access access) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, 4, access, false,
                access == Access.WRITE ? WriteData.of(new byte[] {1, 2, 3, 4}) : null));
    }

    // ---- second stage only ----

    @Test
    void secondStage_mappedPage_readAndWriteReachHostPage() {
        f.writeSecondStagePasidEntry(0);
        f.mapSecondStage(IOVA, PA, RW);

        assertThat(dma(IOVA + 8, Access.WRITE).ok()).isTrue();

        assertThat(f.memory.read(PA + 8, 4)).containsExactly(1, 2, 3, 4);
        assertThat(dma(IOVA + 8, Access.READ).data()).containsExactly(1, 2, 3, 4);
        assertThat(f.faults).isEmpty();
    }

    @Test
    void secondStage_largePage_translatesWithin2MiB() {
        f.writeSecondStagePasidEntry(0);
        f.secondStage.map(f.slRoot, IOVA, 0x20_0000, 1L << 21, RW, f::allocateFrame);

        assertThat(dma(IOVA + 0x1_2340, Access.WRITE).ok()).isTrue();

        assertThat(f.memory.read(0x20_0000 + 0x1_2340, 4)).containsExactly(1, 2, 3, 4);
    }

    /** SSADE set: A on use, D on a write. Clear: the hardware leaves A/D alone. */
    @Test
    void secondStage_ssade_setsAccessedAndDirty() {
        f.writeSecondStagePasidEntry(VtdEntries.PE_SSADE);
        long pte = f.mapSecondStage(IOVA, PA, RW);

        dma(IOVA, Access.READ);
        long afterRead = f.memory.readLong(pte);
        dma(IOVA, Access.WRITE);

        assertThat(afterRead & (VtdSecondStageTable.A | VtdSecondStageTable.D)).isEqualTo(VtdSecondStageTable.A);
        assertThat(f.memory.readLong(pte) & VtdSecondStageTable.D).isNotZero();
    }

    @Test
    void secondStage_noSsade_accessedDirtyUntouched() {
        f.writeSecondStagePasidEntry(0);
        long pte = f.mapSecondStage(IOVA, PA, RW);

        dma(IOVA, Access.WRITE);

        assertThat(f.memory.readLong(pte) & (VtdSecondStageTable.A | VtdSecondStageTable.D)).isZero();
    }

    @Test
    void secondStage_readWriteClear_fault0x79() {
        f.writeSecondStagePasidEntry(0);

        dma(IOVA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x79);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.TRANSLATION_NOT_PRESENT);
    }

    @Test
    void secondStage_writeToReadOnlyAndReadOfWriteOnly_faults0x85And0x86() {
        f.writeSecondStagePasidEntry(0);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);
        f.mapSecondStage(IOVA + 0x1000, PA + 0x1000, VtdSecondStageTable.W);

        dma(IOVA, Access.WRITE);
        dma(IOVA + 0x1000, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x85, 0x86);
        assertThat(f.memory.readInt(PA)).isZero();
    }

    /** SLEE = 1: execute needs X (0x82 without). SLEE = 0: X is ignored and execute needs R. */
    @Test
    void secondStage_executeWithAndWithoutSlee() {
        f.writeSecondStagePasidEntry(VtdEntries.PE_SLEE);
        f.memory.writeLong(f.pasidEntryAddr + 16, VtdEntries.PE_ERE);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);
        f.mapSecondStage(IOVA + 0x1000, PA, VtdSecondStageTable.R | VtdSecondStageTable.X);

        assertThat(dma(IOVA, Access.EXEC).ok()).isFalse();
        assertThat(dma(IOVA + 0x1000, Access.EXEC).ok()).isTrue();
        assertThat(f.faultCodes()).containsExactly(0x82);

        VtdFixture noSlee = new VtdFixture().attach(VtdEntries.CTX_PASIDE);
        noSlee.writeSecondStagePasidEntry(0);
        noSlee.memory.writeLong(noSlee.pasidEntryAddr + 16, VtdEntries.PE_ERE);
        noSlee.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);
        assertThat(noSlee.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, IOVA, 4,
                Access.EXEC, false, null)).ok()).isTrue();
    }

    @Test
    void secondStage_reservedBits_fault0x7A() {
        f.writeSecondStagePasidEntry(0);
        long pte = f.mapSecondStage(IOVA, PA, RW);
        f.memory.writeLong(pte, f.memory.readLong(pte) | 1L << 11);

        dma(IOVA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x7a);
    }

    @Test
    void secondStage_slptptrOutsideMemory_fault0x7B() {
        f.writePasidEntry(PASID, VtdEntries.PRESENT | (1L << 40) | 2L << 2 | (long) VtdEntries.PGTT_SECOND_STAGE << 6,
                0);

        dma(IOVA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x7b);
    }

    @Test
    void secondStage_lowerTableOutsideMemory_fault0x78() {
        f.writeSecondStagePasidEntry(0);
        f.memory.writeLong(f.slRoot, (1L << 40) | RW);

        dma(0, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x78);
    }

    @Test
    void secondStage_inputAboveAddressWidth_fault0x83() {
        f.writeSecondStagePasidEntry(0);

        dma(1L << 48, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x83);
    }

    @Test
    void secondStage_entryAddressAboveHostWidth_fault0x84() {
        f.writeSecondStagePasidEntry(0);
        long pte = f.mapSecondStage(IOVA, PA, RW);
        f.memory.writeLong(pte, f.memory.readLong(pte) | 1L << 47);

        dma(IOVA, Access.READ);

        assertThat(f.faultCodes()).containsExactly(0x84);
    }

    @Test
    void secondStage_ssadeWithoutSnoop_fault0x7C() {
        VtdFixture nc = new VtdFixture(VtdConfig.defaults("dmar0").withPageWalkCoherent(false))
                .attach(VtdEntries.CTX_PASIDE);
        nc.writeSecondStagePasidEntry(VtdEntries.PE_SSADE);
        nc.mapSecondStage(IOVA, PA, RW);

        assertThat(nc.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, IOVA, 4,
                Access.READ, false, null)).ok()).isFalse();
        assertThat(nc.faultCodes()).containsExactly(0x7c);
    }

    @Test
    void secondStage_translationRequest_grantsSecondStageRights() {
        f.writeSecondStagePasidEntry(0);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);

        AtsCompletion c = f.unit.translationRequest(new AtsTranslationRequest(RID, true, PASID, IOVA, false, false,
                false));

        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
        assertThat(c.translatedAddr()).isEqualTo(PA);
    }
}
