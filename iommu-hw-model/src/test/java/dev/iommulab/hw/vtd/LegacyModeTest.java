package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static dev.iommulab.hw.vtd.VtdFixture.legacyHi;
import static dev.iommulab.hw.vtd.VtdFixture.legacyLo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Legacy mode (RTADDR.TTM = 00b): 16-byte root and context entries, TT 00b / 01b / 10b, the
 * second-level table, and the legacy fault reasons 0x01-0x0D at the step where each is found, plus the
 * TTM faults 0x30-0x32. Derives from reference/iommu-hardware.md §2.1.1 (legacy structures and fault
 * list, kernel dma_remap_fault_reasons) and §2.1.6 (TT = 01b enables ATS, else 0x0D).
 */
class LegacyModeTest {

    private static final long IOVA = 0x0000_0012_3456_0000L;
    private static final long PA = 0x0080_0000L;
    private static final long RW = VtdSecondStageTable.R | VtdSecondStageTable.W;

    private final VtdFixture f = new VtdFixture();

    private DmaCompletion read(long addr) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, addr, 4, Access.READ,
                false, null));
    }

    private DmaCompletion write(long addr) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, addr, 4, Access.WRITE,
                false, WriteData.of(new byte[] {1, 2, 3, 4})));
    }

    private void legacy(int tt) {
        f.useLegacyMode(RID, legacyLo(f.slRoot, tt), legacyHi());
    }

    @Test
    void memoryRequest_multiLevelContext_translatesThroughSecondLevelTable() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.mapSecondStage(IOVA, PA, RW);
        f.memory.write(PA + 0x20, new byte[] {9, 8, 7, 6});

        DmaCompletion c = read(IOVA + 0x20);

        assertThat(c.ok()).isTrue();
        assertThat(c.data()).containsExactly(9, 8, 7, 6);
        assertThat(f.faults).isEmpty();
    }

    /** TT = 10b: untranslated requests pass through, SLPTPTR ignored. */
    @Test
    void memoryRequest_passThroughContext_usesAddressAsIs() {
        f.useLegacyMode(RID, VtdEntries.PRESENT | (long) VtdEntries.TT_PASS_THROUGH << VtdEntries.CTX_TT_SHIFT,
                legacyHi());

        assertThat(write(PA).ok()).isTrue();
        assertThat(f.memory.read(PA, 4)).containsExactly(1, 2, 3, 4);
    }

    /** §2.1.6: TT = 01b allows ATS; the completion carries the second-level rights. */
    @Test
    void translationRequest_deviceTlbContext_grantsSecondLevelRights() {
        legacy(VtdEntries.TT_DEVICE_TLB);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);

        AtsCompletion c = f.unit.translationRequest(new AtsTranslationRequest(RID, false, 0, IOVA, false, false, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
        assertThat(c.translatedAddr()).isEqualTo(PA);
    }

    /** §2.1.6: TT = 00b or 10b blocks translation requests and translated requests: UR and 0x0D. */
    @ParameterizedTest(name = "TT {0}")
    @ValueSource(ints = {0, 2})
    void translationRequest_ttWithoutDeviceTlb_urAndFault0x0D(int tt) {
        legacy(tt);

        AtsCompletion c = f.unit.translationRequest(new AtsTranslationRequest(RID, false, 0, IOVA, true, false, false));
        DmaCompletion translated = f.unit.memoryRequest(new DmaRequest(RID, AddressType.TRANSLATED, false, 0, PA, 4,
                Access.READ, false, null));

        assertThat(c.status()).isEqualTo(CompletionStatus.UR);
        assertThat(translated.ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x0d, 0x0d);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.REQUEST_TYPE_DISALLOWED);
    }

    @Test
    void memoryRequest_translatedWithDeviceTlbContext_goesToGivenAddress() {
        legacy(VtdEntries.TT_DEVICE_TLB);

        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(RID, AddressType.TRANSLATED, false, 0, PA, 4,
                Access.WRITE, false, WriteData.of(new byte[] {4, 4, 4, 4})));

        assertThat(c.ok()).isTrue();
        assertThat(f.memory.read(PA, 4)).containsExactly(4, 4, 4, 4);
    }

    /** Legacy second-level entries have no P bit: R = W = 0 is 0x06 for a read and 0x05 for a write. */
    @Test
    void memoryRequest_entryWithReadWriteClear_fault0x06ReadAnd0x05Write() {
        legacy(VtdEntries.TT_MULTI_LEVEL);

        read(IOVA);
        write(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x06, 0x05);
        assertThat(f.faults).allSatisfy(x -> assertThat(x.reason()).isEqualTo(HwFaultReason.TRANSLATION_NOT_PRESENT));
    }

    @Test
    void memoryRequest_writeToReadOnlyEntry_fault0x05PermissionWrite() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.R);

        assertThat(write(IOVA).ok()).isFalse();
        assertThat(f.faults).singleElement().satisfies(x -> {
            assertThat(x.vendorCode()).isEqualTo(0x05);
            assertThat(x.reason()).isEqualTo(HwFaultReason.PERMISSION_WRITE);
        });
        assertThat(f.memory.readInt(PA)).isZero();
    }

    @Test
    void memoryRequest_readOfWriteOnlyEntry_fault0x06PermissionRead() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.mapSecondStage(IOVA, PA, VtdSecondStageTable.W);

        read(IOVA);

        assertThat(f.faults).extracting(x -> x.reason()).containsExactly(HwFaultReason.PERMISSION_READ);
    }

    @Test
    void memoryRequest_addressAboveContextWidth_fault0x04() {
        f.useLegacyMode(RID, legacyLo(f.slRoot, 0), 1L | (long) VtdFixture.DOMAIN_ID << 8);

        read(1L << 39);

        assertThat(f.faultCodes()).containsExactly(0x04);
    }

    @Test
    void memoryRequest_nextTableOutsideMemory_fault0x07() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.memory.writeLong(f.slRoot, (1L << 40) | RW);

        read(0);

        assertThat(f.faultCodes()).containsExactly(0x07);
    }

    @Test
    void memoryRequest_reservedBitInSecondLevelEntry_fault0x0C() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        long pte = f.mapSecondStage(IOVA, PA, RW);
        f.memory.writeLong(pte, f.memory.readLong(pte) | 1L << 11);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x0c);
    }

    @Test
    void memoryRequest_rootEntryNotPresent_fault0x01() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.memory.writeLong(f.legacyRoot + (long) (RID >>> 8) * 16, 0);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x01);
    }

    @Test
    void memoryRequest_contextNotPresent_fault0x02() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.memory.writeLong(f.contextAddr, 0);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x02);
    }

    /** 0x03: TT = 11b is reserved; so is AW 000b for a translating context. */
    @ParameterizedTest(name = "lo {0}")
    @ValueSource(strings = {"tt3", "aw0"})
    void memoryRequest_invalidContext_fault0x03(String which) {
        if (which.equals("tt3")) {
            f.useLegacyMode(RID, legacyLo(f.slRoot, 3), legacyHi());
        } else {
            f.useLegacyMode(RID, legacyLo(f.slRoot, 0), (long) VtdFixture.DOMAIN_ID << 8);
        }

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x03);
    }

    @Test
    void memoryRequest_rootTableOutsideMemory_fault0x08() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.unit.writeReg(VtdRegs.RTADDR, 1L << 40);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x08);
    }

    @Test
    void memoryRequest_contextTableOutsideMemory_fault0x09() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.memory.writeLong(f.legacyRoot + (long) (RID >>> 8) * 16, (1L << 40) | VtdEntries.PRESENT);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x09);
    }

    @Test
    void memoryRequest_reservedBitsInRootAndContext_faults0x0AAnd0x0B() {
        legacy(VtdEntries.TT_MULTI_LEVEL);
        f.memory.writeLong(f.contextAddr + 8, legacyHi() | 1L << 40);
        read(IOVA);
        long rootEntry = f.legacyRoot + (long) (RID >>> 8) * 16;
        f.memory.writeLong(rootEntry + 8, 1);
        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x0b, 0x0a);
    }

    /** 0x31: a request with PASID in legacy mode; not qualified, so recorded. */
    @Test
    void memoryRequest_withPasidInLegacyMode_fault0x31() {
        legacy(VtdEntries.TT_MULTI_LEVEL);

        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, 3, IOVA, 4,
                Access.READ, false, null));

        assertThat(c.ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x31);
        assertThat(f.frcd(0).pasidPresent()).isTrue();
    }

    /** 0x32: a page request in legacy mode is a remapping-table fault: LPIG answered Invalid Request. */
    @Test
    void pageRequest_legacyMode_fault0x32AndInvalidRequest() {
        legacy(VtdEntries.TT_DEVICE_TLB);
        f.enablePageRequestQueue();

        f.unit.pageRequest(new PageRequestMessage(RID, false, 0, false, false, true, false, true, 4, IOVA));
        f.settle();

        assertThat(f.faultCodes()).containsExactly(0x32);
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, false, 0, 4, PrgResponseCode.INVALID_REQUEST.wire()));
        assertThat(f.unit.readReg(VtdRegs.PQT)).isZero();
    }

    /** 0x30: TTM = 10b is reserved; every request faults at the root table address. */
    @Test
    void memoryRequest_reservedTtm_fault0x30() {
        f.unit.writeReg(VtdRegs.RTADDR, f.rootTable | 2L << 10);

        read(IOVA);

        assertThat(f.faultCodes()).containsExactly(0x30);
    }

    /**
     * VtdConfig mode LEGACY (option {@code mode: legacy}): ECAP has no SMTS/PASID/PRS, and a driver that
     * asks for scalable mode (TTM = 01b) gets 0x30 for every request.
     */
    @Test
    void legacyOnlyUnit_scalableTtm_ecapWithoutSmtsAndFault0x30() {
        VtdFixture legacyOnly = new VtdFixture(VtdConfig.defaults("dmar0").withMode(VtdConfig.Mode.LEGACY))
                .attachSvaDevice();
        long ecap = legacyOnly.unit.readReg(VtdRegs.ECAP);

        legacyOnly.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, VtdFixture.PASID, IOVA, 4,
                Access.READ, false, null));

        assertThat(ecap & (VtdRegs.ECAP_SMTS | VtdRegs.ECAP_PASID | VtdRegs.ECAP_PRS)).isZero();
        assertThat(ecap & VtdRegs.ECAP_QI).isNotZero();
        assertThat(f.unit.readReg(VtdRegs.ECAP) & VtdRegs.ECAP_SMTS).isNotZero();
        assertThat(legacyOnly.faultCodes()).containsExactly(0x30);
    }

    /** The same unit can still run legacy mode. */
    @Test
    void legacyOnlyUnit_legacyTtm_translates() {
        VtdFixture legacyOnly = new VtdFixture(VtdConfig.defaults("dmar0").withMode(VtdConfig.Mode.LEGACY));
        legacyOnly.useLegacyMode(RID, legacyLo(legacyOnly.slRoot, 0), legacyHi());
        legacyOnly.mapSecondStage(IOVA, PA, RW);

        DmaCompletion c = legacyOnly.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, IOVA,
                4, Access.READ, false, null));

        assertThat(c.ok()).isTrue();
    }

    /** §2.1.1 qualified faults in legacy mode: FPD in the context entry suppresses 0x06's record only. */
    @Test
    void memoryRequest_fpdContextAndEntryNotPresent_blockedNotRecorded() {
        f.useLegacyMode(RID, legacyLo(f.slRoot, 0) | VtdEntries.FPD, legacyHi());

        assertThat(read(IOVA).ok()).isFalse();

        assertThat(f.faults).singleElement().satisfies(x -> assertThat(x.recorded()).isFalse());
        assertThat(f.frcd(0)).isNull();
    }
}
