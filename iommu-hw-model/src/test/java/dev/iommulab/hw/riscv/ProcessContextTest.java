package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.PSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static dev.iommulab.hw.riscv.RiscvFixture.readNoPasid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code process_id} handling and the PDT walk: riscv-iommu "Process to translate an IOVA" steps 7 and
 * 10-16, "Process to locate the Process-context", "Process-context fields" (ENS, SUM) and "Process-context
 * configuration checks" (reference/iommu-hardware.md §2.4.1, causes 260, 265-267).
 */
class ProcessContextTest {

    private final RiscvFixture f = new RiscvFixture();

    private DmaRequest readAs(int pid, boolean supervisor, Access access) {
        return new DmaRequest(DID, AddressType.UNTRANSLATED, true, pid, VA, 8, access, supervisor,
                access == Access.WRITE ? WriteData.of(new byte[8]) : null);
    }

    private HwFault fault(DmaRequest r) {
        assertThat(f.iommu.memoryRequest(r).ok()).isFalse();
        return f.lastFault();
    }

    /** Rewrites the PDT for {@code pdtMode} with a process context for {@code pid}. */
    private void usePdt(int pdtMode, int pid) {
        f.pdt(pdtMode);
        f.writePc(pid, RiscvProcessContext.of(PSCID, 0, RiscvDeviceContext.encodeAtp(8, f.fsRoot)));
        f.editDc(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta(),
                RiscvDeviceContext.encodeAtp(pdtMode, f.pdtRoot)));
    }

    @ParameterizedTest
    @CsvSource({"1, 0xab", "2, 0x1_2345", "3, 0xf_edcb"})
    void locate_eachPdtDepth_translatesWithProcessFirstStage(int pdtMode, String pidText) {
        int pid = Integer.decode(pidText.replace("_", ""));
        f.attachSva(0);
        usePdt(pdtMode, pid);
        f.map(VA, PA, USER_RW);

        assertThat(f.iommu.memoryRequest(readAs(pid, false, Access.READ)).ok()).isTrue();
        assertThat(f.faults).isEmpty();
    }

    @Test
    void translate_pidWiderThanPd8_disallowed260PasidOutOfRange() {
        f.attachSva(0);
        usePdt(RiscvDeviceContext.PDTP_PD8, 0x12);

        HwFault fault = fault(readAs(0x100, false, Access.READ));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PASID_OUT_OF_RANGE);
    }

    @Test
    void translate_pasidWithoutPdtv_disallowed260() {
        f.attachNoPasid(0);

        HwFault fault = fault(read(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.REQUEST_TYPE_DISALLOWED);
    }

    @Test
    void locate_processContextNotValid_266() {
        f.attachSva(0);

        HwFault fault = fault(readAs(PASID + 1, false, Access.READ));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.PDT_NOT_VALID);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PASID_ENTRY_NOT_PRESENT);
    }

    @Test
    void locate_nonLeafPdtEntryNotValid_266() {
        f.attachSva(0);

        assertThat(fault(readAs(0x1_0000, false, Access.READ)).vendorCode()).isEqualTo(RiscvCause.PDT_NOT_VALID);
    }

    @Test
    void locate_nonLeafPdtEntryReservedBit_267() {
        f.attachSva(0);
        f.memory.writeLong(f.pdtRoot, f.memory.readLong(f.pdtRoot) | 1L << 60);

        HwFault fault = fault(read(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.PDT_MISCONFIGURED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PASID_ENTRY_MISCONFIGURED);
    }

    @ParameterizedTest
    @CsvSource({"8, 0", "0, 32", "11, 0", "8, 4294967296"})
    void locate_processContextMisconfigured_267(int fscMode, long taExtra) {
        f.attachSva(0);
        f.writePc(PASID, new RiscvProcessContext(RiscvProcessContext.TA_V | taExtra
                | RiscvDeviceContext.encodeTa(PSCID), RiscvDeviceContext.encodeAtp(fscMode, f.fsRoot)
                | (fscMode == 8 && taExtra == 0 ? 1L << 45 : 0)));

        assertThat(fault(read(VA)).vendorCode()).isEqualTo(RiscvCause.PDT_MISCONFIGURED);
    }

    @Test
    void locate_pdtOutsideMemory_loadAccessFault265() {
        f.attachSva(0);
        f.memory.writeLong(f.pdtRoot, RiscvDeviceContext.nonLeaf(RiscvFixture.MEMORY_SIZE + 0x1000));

        HwFault fault = fault(read(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.PDT_LOAD_ACCESS_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PASID_TABLE_FETCH_ERROR);
    }

    @Test
    void translate_supervisorWithoutEns_disallowed260() {
        f.attachSva(0);
        f.map(VA, PA, RiscvPte.R | RiscvPte.A);

        HwFault fault = fault(readAs(PASID, true, Access.READ));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PERMISSION_PRIVILEGE);
    }

    @Test
    void translate_supervisorWithEns_userPageNeedsSumAndNeverExecutes() {
        f.attachSva(0);
        f.map(VA, PA, USER_RW | RiscvPte.X);
        f.writePc(PASID, RiscvProcessContext.of(PSCID, RiscvProcessContext.TA_ENS,
                RiscvDeviceContext.encodeAtp(8, f.fsRoot)));
        assertThat(fault(readAs(PASID, true, Access.READ)).vendorCode()).isEqualTo(RiscvCause.READ_PAGE_FAULT);
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.PERMISSION_PRIVILEGE);

        RiscvFixture g = new RiscvFixture();
        g.attachSva(0);
        g.map(VA, PA, USER_RW | RiscvPte.X);
        g.writePc(PASID, RiscvProcessContext.of(PSCID, RiscvProcessContext.TA_ENS | RiscvProcessContext.TA_SUM,
                RiscvDeviceContext.encodeAtp(8, g.fsRoot)));
        assertThat(g.iommu.memoryRequest(readAs(PASID, true, Access.READ)).ok()).isTrue();
        assertThat(g.iommu.memoryRequest(readAs(PASID, true, Access.EXEC)).ok()).isFalse();
        assertThat(g.lastFault().vendorCode()).isEqualTo(RiscvCause.INSTRUCTION_PAGE_FAULT);
    }

    @Test
    void translate_supervisorPageForUserRequest_pageFault() {
        f.attachSva(0);
        f.map(VA, PA, RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.D);

        HwFault fault = fault(readAs(PASID, false, Access.WRITE));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.WRITE_PAGE_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PERMISSION_PRIVILEGE);
    }

    @Test
    void translate_noProcessIdWithDpe_usesProcessZero() {
        f.attachSva(RiscvDeviceContext.TC_DPE);
        f.writePc(0, RiscvProcessContext.of(PSCID, 0, RiscvDeviceContext.encodeAtp(8, f.fsRoot)));
        f.map(VA, PA, USER_RW);

        assertThat(f.iommu.memoryRequest(readNoPasid(VA)).ok()).isTrue();
    }

    @Test
    void translate_noProcessIdWithoutDpe_firstStageBare() {
        f.attachSva(0);

        DmaCompletion d = f.iommu.memoryRequest(RiscvFixture.writeNoPasid(PA, new byte[] {9}));

        assertThat(d.ok()).isTrue();
        assertThat(f.memory.read(PA, 1)).containsExactly(9);
    }

    @Test
    void translate_pdtpBare_processIdGetsBareFirstStage() {
        f.attachSva(0);
        f.editDc(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta(), 0));

        assertThat(f.iommu.memoryRequest(RiscvFixture.write(PA, new byte[] {7})).ok()).isTrue();
        assertThat(f.memory.read(PA, 1)).containsExactly(7);
    }
}
