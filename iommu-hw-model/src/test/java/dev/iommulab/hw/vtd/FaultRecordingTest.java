package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import org.junit.jupiter.api.Test;

/**
 * Primary fault logging: the fault recording registers, FSTS and the fault event. Derives from
 * reference/iommu-hardware.md §2.1.2 (recording algorithm after QEMU vtd_report_frcd_fault(), FRCD
 * fields after the kernel's dma_frcd_* accessors, dmar_fault()'s clearing sequence), §5 (response,
 * record and interrupt asserted separately) and §6 scenarios 29 and 30.
 */
class FaultRecordingTest {

    private static final long UNMAPPED = 0x0000_7f00_0000_0000L;
    private static final int SID_B = 0x0200;
    private static final int SID_C = 0x0300;
    private static final int SID_D = 0x0400;

    private final VtdFixture f;

    FaultRecordingTest() {
        f = new VtdFixture().attachSvaDevice();
        for (int sid : new int[] {SID_B, SID_C, SID_D}) {
            f.writeContext(sid, VtdEntries.PRESENT | VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE | VtdEntries.CTX_PRE);
        }
    }

    /** An untranslated write to an unmapped page: fault 0x71. */
    private DmaCompletion faultFrom(int sid) {
        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(sid, AddressType.UNTRANSLATED, true, PASID,
                UNMAPPED + 0x10, 4, Access.WRITE, false, WriteData.of(new byte[] {1, 2, 3, 4})));
        f.settle();
        return c;
    }

    private HwFault lastFault() {
        return f.faults.get(f.faults.size() - 1);
    }

    /** §2.1.2: the record holds F, T, AT, FR, SID, PASID-present + PASID, PRIV, EXE and FI. */
    @Test
    void record_firstFault_fillsFrcd0AndSetsPpfFriAndRaisesFaultEvent() {
        faultFrom(RID);

        FaultRecord r = f.frcd(0);
        assertThat(r).isEqualTo(new FaultRecord(RID, true, PASID, UNMAPPED, FaultRecord.Type.WRITE, 0, false, false,
                0x71));
        assertThat(f.fsts() & VtdRegs.FSTS_PPF).isEqualTo(VtdRegs.FSTS_PPF);
        assertThat(VtdRegs.fstsFaultRecordIndex(f.fsts())).isZero();
        assertThat(f.faultEvents).isEqualTo(1);
        assertThat(lastFault().recorded()).isTrue();
    }

    /** The FRCD bit layout itself: FR 39:32, SID 15:0, PP 31, PV 59:40, T1 62, F 63 of the upper qword. */
    @Test
    void record_registerBits_followDmaFrcdLayout() {
        faultFrom(RID);
        int base = VtdRegs.FRCD_BASE;

        long hi = f.unit.readReg(base + 8);

        assertThat(f.unit.readReg(base)).isEqualTo(UNMAPPED);
        assertThat(hi).isEqualTo(FaultRecord.F | (long) PASID << 40 | 0x71L << 32 | 1L << 31 | RID);
        assertThat(f.unit.readReg(base + 12)).as("the dword dmar_fault() reads").isEqualTo(hi >>> 32);
    }

    /** A read with execute request (ERE clear, 0x5C) records T1 = 1 and EXE = 1. */
    @Test
    void record_executeRequest_readTypeWithExeBit() {
        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, UNMAPPED, 4, Access.EXEC,
                false, null));

        assertThat(f.frcd(0)).isEqualTo(new FaultRecord(RID, true, PASID, UNMAPPED, FaultRecord.Type.READ, 0, true,
                false, 0x5c));
    }

    /** A translation request blocked by DTE (0x44) records AT = 01b; a page request (0x47) T2:T1 = 10b. */
    @Test
    void record_atsAndPageRequestFaults_addressTypeAndPageRequestType() {
        f.attach(VtdEntries.CTX_PASIDE);
        f.unit.translationRequest(new AtsTranslationRequest(RID, true, PASID, UNMAPPED, true, false, false));
        f.enablePageRequestQueue();
        f.writeContext(SID_B, VtdEntries.PRESENT | VtdEntries.CTX_PASIDE);
        f.unit.pageRequest(new PageRequestMessage(SID_B, true, PASID, false, false, true, false, true, 1, UNMAPPED));
        f.settle();

        assertThat(f.frcd(0).addressType()).isEqualTo(1);
        assertThat(f.frcd(0).reason()).isEqualTo(0x44);
        assertThat(f.frcd(1).type()).isEqualTo(FaultRecord.Type.PAGE_REQUEST);
        assertThat(f.frcd(1).reason()).isEqualTo(0x47);
        assertThat(f.frcd(1).sid()).isEqualTo(SID_B);
    }

    /** §2.1.2: CAP.NFR and CAP.FRO let software find the N registers (cap_num_fault_regs/offset). */
    @Test
    void cap_faultRecordsOption_nfrAndFroDescribeRegisters() {
        VtdFixture four = new VtdFixture(VtdConfig.defaults("dmar0").withFaultRecords(4));

        long cap = four.unit.readReg(VtdRegs.CAP);

        assertThat(VtdRegs.capNumFaultRegs(cap)).isEqualTo(4);
        assertThat(VtdRegs.capFaultRegOffset(cap)).isEqualTo(VtdRegs.FRCD_BASE);
        assertThat(VtdRegs.capNumFaultRegs(f.unit.readReg(VtdRegs.CAP))).isEqualTo(VtdConfig.DEFAULT_FAULT_RECORDS);
    }

    /** Round robin: records go to 0, 1, 2; after software clears them the next goes to 3 and FRI = 3. */
    @Test
    void record_roundRobin_continuesAfterClearedRegistersAndFriNamesFirstPending() {
        faultFrom(RID);
        faultFrom(SID_B);
        faultFrom(SID_C);
        assertThat(f.frcd(2).sid()).isEqualTo(SID_C);
        for (int i = 0; i < 3; i++) {
            f.clearFrcd(i);
        }
        assertThat(f.fsts() & VtdRegs.FSTS_PPF).as("PPF is the OR of the F bits").isZero();

        faultFrom(SID_D);

        assertThat(f.frcd(0)).isNull();
        assertThat(f.frcd(3).sid()).isEqualTo(SID_D);
        assertThat(VtdRegs.fstsFaultRecordIndex(f.fsts())).isEqualTo(3);
    }

    /** Scenario 29, first half: SID a faults again while its record is pending → collapsed, no PFO. */
    @Test
    void scenario29_sameSidWhileRecordPending_collapsedWithoutPfo() {
        faultFrom(RID);

        DmaCompletion again = faultFrom(RID);

        assertThat(again.ok()).as("the DMA is blocked either way").isFalse();
        assertThat(f.frcd(1)).isNull();
        assertThat(f.fsts() & VtdRegs.FSTS_PFO).isZero();
        assertThat(lastFault().recorded()).isFalse();
        assertThat(lastFault().vendorCode()).isEqualTo(0x71);
    }

    /**
     * Scenario 29 with one register (QEMU's NFR): SID b faults and the next slot is busy → PFO, no
     * record; later faults are dropped until software clears PFO, even after the register is free.
     */
    @Test
    void scenario29_nextSlotBusy_pfoSetAndLaterFaultsDroppedUntilPfoCleared() {
        VtdFixture one = new VtdFixture(VtdConfig.defaults("dmar0").withFaultRecords(1)).attachSvaDevice();
        one.writeContext(SID_B, VtdEntries.PRESENT | VtdEntries.CTX_PASIDE);
        one.writeContext(SID_C, VtdEntries.PRESENT | VtdEntries.CTX_PASIDE);
        DmaRequest fromA = write(RID);
        one.unit.memoryRequest(fromA);

        DmaCompletion b = one.unit.memoryRequest(write(SID_B));

        assertThat(b.ok()).isFalse();
        assertThat(one.fsts() & VtdRegs.FSTS_PFO).isEqualTo(VtdRegs.FSTS_PFO);
        assertThat(one.frcd(0).sid()).isEqualTo(RID);
        assertThat(one.faults.get(1).recorded()).isFalse();

        one.clearFrcd(0);
        one.unit.memoryRequest(write(SID_C));
        assertThat(one.frcd(0)).as("PFO set: nothing recorded").isNull();
        assertThat(one.faults.get(2).recorded()).isFalse();

        one.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_PFO);
        one.unit.memoryRequest(write(SID_C));
        assertThat(one.fsts() & VtdRegs.FSTS_PFO).isZero();
        assertThat(one.frcd(0).sid()).isEqualTo(SID_C);
        assertThat(one.faults.get(3).recorded()).isTrue();
    }

    private static DmaRequest write(int sid) {
        return new DmaRequest(sid, AddressType.UNTRANSLATED, true, PASID, UNMAPPED, 4, Access.WRITE, false,
                WriteData.of(new byte[] {1, 2, 3, 4}));
    }

    /** Scenario 30: with PPF already set, a record in a free register raises no new fault event. */
    @Test
    void scenario30_ppfAlreadySet_newRecordRaisesNoInterrupt() {
        faultFrom(RID);
        assertThat(f.faultEvents).isEqualTo(1);

        faultFrom(SID_B);

        assertThat(f.frcd(1).sid()).isEqualTo(SID_B);
        assertThat(f.faultEvents).isEqualTo(1);
    }

    /**
     * dmar_fault(): read from FRI while F is set, clear each F, then write PFO|PPF|PRO. Everything is clear
     * and the next fault is a new interrupt condition.
     */
    @Test
    void dmarFaultSequence_clearsAllThenNextFaultInterruptsAgain() {
        faultFrom(RID);
        faultFrom(SID_B);
        for (int i = VtdRegs.fstsFaultRecordIndex(f.fsts()); f.frcd(i) != null; i++) {
            f.clearFrcd(i);
        }
        f.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_PFO | VtdRegs.FSTS_PPF | VtdRegs.FSTS_PRO);
        assertThat(f.fsts() & 0xff).isZero();

        faultFrom(SID_C);

        assertThat(f.faultEvents).isEqualTo(2);
        assertThat(VtdRegs.fstsFaultRecordIndex(f.fsts())).isEqualTo(2);
    }

    /** PPF is read-only: writing it while a record is pending changes nothing. */
    @Test
    void writeFsts_ppfWhileRecordPending_ppfStaysSet() {
        faultFrom(RID);

        f.unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_PPF);

        assertThat(f.fsts() & VtdRegs.FSTS_PPF).isEqualTo(VtdRegs.FSTS_PPF);
        assertThat(f.frcd(0)).isNotNull();
    }

    /** FECTL.IM: the condition sets IP; the message goes out when software unmasks. */
    @Test
    void faultEvent_masked_setsIpAndDeliversWhenUnmasked() {
        f.unit.writeReg(VtdRegs.FECTL, VtdRegs.ECTL_IM);
        faultFrom(RID);
        assertThat(f.faultEvents).isZero();
        assertThat(f.unit.readReg(VtdRegs.FECTL) & VtdRegs.ECTL_IP).isNotZero();

        f.unit.writeReg(VtdRegs.FECTL, 0);
        f.settle();

        assertThat(f.faultEvents).isEqualTo(1);
        assertThat(f.unit.readReg(VtdRegs.FECTL) & VtdRegs.ECTL_IP).isZero();
    }

    /** IP is dropped when software clears every status bit before unmasking: no stale interrupt. */
    @Test
    void faultEvent_maskedThenServiced_ipClearedAndNothingDelivered() {
        f.unit.writeReg(VtdRegs.FECTL, VtdRegs.ECTL_IM);
        faultFrom(RID);
        f.clearFrcd(0);

        f.unit.writeReg(VtdRegs.FECTL, 0);
        f.settle();

        assertThat(f.faultEvents).isZero();
    }
}
