package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86Pte;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Scalable-mode fault reasons raised at the step where the spec raises them: root entry (0x38-0x3A),
 * context entry (0x40-0x48), PASID directory (0x50-0x52), PASID table entry (0x58-0x5D), first-stage
 * walk (0x70-0x73, 0x80-0x82, 0x85, 0x90) and the interrupt range (0x87). Derives from
 * reference/iommu-hardware.md §2.1.1 (fault list; kernel dma_remap_sm_fault_reasons) and §3.4 (common
 * reasons). First-stage setup as in {@link VtdFixture#attachSvaDevice()}.
 */
class ScalableFaultReasonsTest {

    private static final long VA = 0x0000_7f00_1234_0000L;
    private static final long PA = 0x0080_0000L;

    private final VtdFixture f = new VtdFixture().attachSvaDevice();

    private DmaCompletion dma(Access access, boolean priv) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA, 4, access, priv,
                access == Access.WRITE ? WriteData.of(new byte[] {1, 2, 3, 4}) : null));
    }

    private DmaCompletion read() {
        return dma(Access.READ, false);
    }

    private long rootEntry() {
        return f.rootTable + (long) (RID >>> 8) * VtdEntries.ROOT_ENTRY_SIZE;
    }

    private long pasidDirEntry() {
        return f.pasidDir + (long) (PASID >>> 6) * 8;
    }

    @Test
    void rootTableOutsideMemory_fault0x38() {
        f.unit.writeReg(VtdRegs.RTADDR, (1L << 40) | VtdRegs.RTADDR_SMT);

        assertThat(read().ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x38);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.DEVICE_CTX_FETCH_ERROR);
    }

    @Test
    void rootEntryNotPresent_fault0x39() {
        f.memory.writeLong(rootEntry(), 0);

        read();

        assertThat(f.faultCodes()).containsExactly(0x39);
    }

    @Test
    void rootEntryReservedBits_fault0x3A() {
        f.memory.writeLong(rootEntry(), f.memory.readLong(rootEntry()) | 0x10);

        read();

        assertThat(f.faultCodes()).containsExactly(0x3a);
    }

    @Test
    void contextTableOutsideMemory_fault0x40() {
        f.memory.writeLong(rootEntry(), (1L << 40) | VtdEntries.PRESENT);

        read();

        assertThat(f.faultCodes()).containsExactly(0x40);
    }

    @Test
    void contextEntryNotPresent_fault0x41() {
        f.memory.writeLong(f.contextAddr, 0);

        read();

        assertThat(f.faultCodes()).containsExactly(0x41);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.DEVICE_CTX_NOT_PRESENT);
    }

    /** Reserved: qword 0 bits 8:5, qword 1 bits 63:21, and the two upper qwords of the 32-byte entry. */
    @ParameterizedTest(name = "offset {0}")
    @ValueSource(ints = {0, 8, 16, 24})
    void contextEntryReservedBits_fault0x42(int qwordOffset) {
        long bit = qwordOffset == 0 ? 1L << 5 : qwordOffset == 8 ? 1L << 30 : 1L;
        f.memory.writeLong(f.contextAddr + qwordOffset, f.memory.readLong(f.contextAddr + qwordOffset) | bit);

        read();

        assertThat(f.faultCodes()).containsExactly(0x42);
    }

    /** PDTS = 0 covers 2^7 directory entries of 64 PASIDs: PASID 8192 is too large. */
    @Test
    void pasidBeyondPdts_fault0x46() {
        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, 8192, VA, 4, Access.READ, false,
                null));

        assertThat(f.faultCodes()).containsExactly(0x46);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.PASID_OUT_OF_RANGE);
    }

    /** A request without PASID uses RID_PASID; a RID_PASID beyond PDTS is a context entry error, 0x48. */
    @Test
    void requestWithoutPasidAndRidPasidBeyondPdts_fault0x48() {
        f.memory.writeLong(f.contextAddr + 8, 9000);

        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, VA, 4, Access.READ, false, null));

        assertThat(f.faultCodes()).containsExactly(0x48);
        assertThat(f.faults.get(0).pasid()).as("the request had no PASID").isEqualTo(-1);
    }

    @Test
    void requestWithoutPasid_translatesThroughRidPasidEntry() {
        f.memory.writeLong(f.contextAddr + 8, PASID);
        f.map(VA, PA, X86Pte.RW | X86Pte.US);
        f.memory.write(PA, new byte[] {5, 5, 5, 5});

        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, VA, 4,
                Access.READ, false, null));

        assertThat(c.ok()).isTrue();
        assertThat(c.data()).containsExactly(5, 5, 5, 5);
    }

    @Test
    void pasidDirectoryOutsideMemory_fault0x50() {
        f.memory.writeLong(f.contextAddr, (f.memory.readLong(f.contextAddr) & 0xfff) | 1L << 40);

        read();

        assertThat(f.faultCodes()).containsExactly(0x50);
    }

    @Test
    void pasidDirectoryEntryNotPresent_fault0x51() {
        f.memory.writeLong(pasidDirEntry(), 0);

        read();

        assertThat(f.faultCodes()).containsExactly(0x51);
    }

    @Test
    void pasidDirectoryEntryReservedBits_fault0x52() {
        f.memory.writeLong(pasidDirEntry(), f.memory.readLong(pasidDirEntry()) | 0x100);

        read();

        assertThat(f.faultCodes()).containsExactly(0x52);
    }

    @Test
    void pasidTableOutsideMemory_fault0x58() {
        f.memory.writeLong(pasidDirEntry(), (1L << 40) | VtdEntries.PRESENT);

        read();

        assertThat(f.faultCodes()).containsExactly(0x58);
    }

    @Test
    void pasidEntryReservedBits_fault0x5A() {
        f.memory.writeLong(f.pasidEntryAddr + 8, f.memory.readLong(f.pasidEntryAddr + 8) | 1L << 16);

        read();

        assertThat(f.faultCodes()).containsExactly(0x5a);
    }

    /** 0x5B: PGTT 000b or 101b, a reserved AW for a second stage, a reserved FLPM for a first stage. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"pgtt0", "pgtt5", "aw0", "flpm2"})
    void pasidEntryInvalid_fault0x5B(String which) {
        long qw0 = VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT;
        long qw2 = f.flRoot;
        switch (which) {
            case "pgtt0" -> qw0 = VtdEntries.PRESENT;
            case "pgtt5" -> qw0 = VtdEntries.PRESENT | 5L << VtdEntries.PE_PGTT_SHIFT;
            case "aw0" -> qw0 = VtdEntries.PRESENT | f.slRoot | (long) VtdEntries.PGTT_SECOND_STAGE << 6;
            default -> qw2 |= 2L << VtdEntries.PE_FLPM_SHIFT;
        }
        f.writePasidEntry(PASID, qw0, qw2);

        read();

        assertThat(f.faultCodes()).containsExactly(0x5b);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.PASID_ENTRY_MISCONFIGURED);
    }

    @Test
    void executeRequestWithEreClear_fault0x5C() {
        dma(Access.EXEC, false);

        assertThat(f.faultCodes()).containsExactly(0x5c);
    }

    @Test
    void privilegedRequestWithSreClear_fault0x5D() {
        dma(Access.READ, true);

        assertThat(f.faultCodes()).containsExactly(0x5d);
    }

    @Test
    void firstStageRootOutsideMemory_fault0x73() {
        f.writePasidEntry(PASID, VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << 6, 1L << 40);

        read();

        assertThat(f.faultCodes()).containsExactly(0x73);
    }

    @Test
    void firstStageLowerTableOutsideMemory_fault0x70() {
        f.memory.writeLong(f.flRoot + 8L * X86Pte.index(VA, 4), (1L << 40) | X86Pte.P | X86Pte.RW | X86Pte.US);

        read();

        assertThat(f.faultCodes()).containsExactly(0x70);
    }

    @Test
    void firstStageReservedBits_fault0x72() {
        long pte = f.map(VA, PA, X86Pte.RW | X86Pte.US);
        f.memory.writeLong(pte, f.memory.readLong(pte) | 1L << 50);

        read();

        assertThat(f.faultCodes()).containsExactly(0x72);
    }

    @Test
    void nonCanonicalAddress_fault0x80() {
        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, 0x0000_8000_0000_0000L, 4,
                Access.READ, false, null));

        assertThat(f.faultCodes()).containsExactly(0x80);
    }

    @Test
    void userRequestToSupervisorPage_fault0x81() {
        f.map(VA, PA, X86Pte.RW);

        read();

        assertThat(f.faultCodes()).containsExactly(0x81);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.PERMISSION_PRIVILEGE);
    }

    /** With ERE set, an execute request to an XD page faults 0x82 at the page, not at the PASID entry. */
    @Test
    void executeRequestToXdPage_fault0x82() {
        f.writePasidEntry(PASID, VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << 6,
                f.flRoot | VtdEntries.PE_ERE);
        f.map(VA, PA, X86Pte.RW | X86Pte.US | X86Pte.XD);

        DmaCompletion c = dma(Access.EXEC, false);

        assertThat(c.ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x82);
    }

    /** 0x87: a translation whose output lies in 0xFEEx_xxxx (here a pass-through PASID). */
    @Test
    void outputInInterruptRange_fault0x87() {
        f.writePasidEntry(PASID, VtdEntries.PRESENT | (long) VtdEntries.PGTT_PASS_THROUGH << 6, 0);

        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, 0xfee0_1000L, 4, Access.WRITE,
                false, WriteData.of(new byte[4])));

        assertThat(f.faultCodes()).containsExactly(0x87);
        assertThat(f.faults.get(0).reason()).isEqualTo(HwFaultReason.MSI_REDIRECT_FAULT);
    }

    @Test
    void passThroughPasid_untranslatedRequestUsesAddressAsIs() {
        f.writePasidEntry(PASID, VtdEntries.PRESENT | (long) VtdEntries.PGTT_PASS_THROUGH << 6, 0);

        assertThat(dma(Access.WRITE, false).ok()).isFalse();
        DmaCompletion c = f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, PA, 4,
                Access.WRITE, false, WriteData.of(new byte[] {7, 7, 7, 7})));

        assertThat(c.ok()).isTrue();
        assertThat(f.memory.read(PA, 4)).containsExactly(7, 7, 7, 7);
    }

    /**
     * 0x90: without page-walk coherency (ECAP.SMPWCS = 0) and with PWSNP clear, an access that must set A/D
     * in a first-stage entry faults.
     */
    @Test
    void firstStageAdUpdateWithoutSnoop_fault0x90() {
        VtdFixture nc = new VtdFixture(VtdConfig.defaults("dmar0").withPageWalkCoherent(false)).attachSvaDevice();
        nc.map(VA, PA, X86Pte.RW | X86Pte.US);

        DmaCompletion c = nc.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA, 4,
                Access.READ, false, null));

        assertThat(c.ok()).isFalse();
        assertThat(nc.faultCodes()).containsExactly(0x90);
        assertThat(nc.unit.readReg(VtdRegs.ECAP) & VtdRegs.ECAP_SMPWCS).isZero();
    }

    @Test
    void firstStageAdUpdateWithPwsnp_succeeds() {
        VtdFixture nc = new VtdFixture(VtdConfig.defaults("dmar0").withPageWalkCoherent(false)).attachSvaDevice();
        nc.writePasidEntry(PASID, VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << 6,
                VtdFixture.DOMAIN_ID | VtdEntries.PE_PWSNP, nc.flRoot);
        long pte = nc.map(VA, PA, X86Pte.RW | X86Pte.US);

        DmaCompletion c = nc.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA, 4,
                Access.WRITE, false, WriteData.of(new byte[4])));

        assertThat(c.ok()).isTrue();
        assertThat(nc.memory.readLong(pte) & (X86Pte.A | X86Pte.D)).isEqualTo(X86Pte.A | X86Pte.D);
    }
}
