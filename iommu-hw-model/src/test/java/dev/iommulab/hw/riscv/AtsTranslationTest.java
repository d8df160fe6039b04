package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.GSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.PSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.ats;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;

/**
 * ATS Translation Requests and Translated requests: riscv-iommu "PCIe ATS translation request handling"
 * (Success with the rights the tables give, R = W = 0 for page faults, UR/CA with a record for the rest; X
 * only with R; Priv echoes the request) and {@code T2GPA} (reference/iommu-hardware.md §1.3, §2.4.6, §3.3).
 */
class AtsTranslationTest {

    private final RiscvFixture f = new RiscvFixture();

    private AtsCompletion atsFor(long flags, boolean noWrite) {
        f.attachSva(0);
        f.map(VA, PA, flags);
        return f.iommu.translationRequest(ats(VA + 0x80, noWrite));
    }

    @Test
    void ats_readWritePage_grantsBothAndPageAddress() {
        AtsCompletion c = atsFor(USER_RW, false);

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isTrue();
        assertThat(c.write()).isTrue();
        assertThat(c.translatedAddr()).isEqualTo(PA);
        assertThat(c.pageSize()).isEqualTo(4096);
        assertThat(c.priv()).isFalse();
        assertThat(f.faults).isEmpty();
    }

    @Test
    void ats_readOnlyPage_partialRightsWithoutRecord() {
        AtsCompletion c = atsFor(RiscvPte.R | RiscvPte.U | RiscvPte.A, false);

        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
        assertThat(f.faults).isEmpty();
    }

    @Test
    void ats_noWrite_writeNotGranted() {
        AtsCompletion c = atsFor(USER_RW, true);

        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
    }

    @Test
    void ats_execRequested_grantedOnlyWithReadAndX() {
        f.attachSva(0);
        f.map(VA, PA, USER_RW | RiscvPte.X);
        f.map(VA + 0x1000, PA, RiscvPte.X | RiscvPte.U | RiscvPte.A);

        AtsCompletion rx = f.iommu.translationRequest(new AtsTranslationRequest(DID, true, PASID, VA, true, true, false));
        AtsCompletion notAsked = f.iommu.translationRequest(ats(VA, true));
        AtsCompletion xOnly = f.iommu.translationRequest(new AtsTranslationRequest(DID, true, PASID, VA + 0x1000, true,
                true, false));

        assertThat(rx.exe()).isTrue();
        assertThat(notAsked.exe()).isFalse();
        assertThat(xOnly.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(xOnly.read()).isFalse();
        assertThat(xOnly.exe()).as("execute-only cannot be expressed in ATS").isFalse();
    }

    @Test
    void ats_dirtyClearWithoutSade_readGrantedWriteNot() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_SADE));
        long leaf = f.map(VA, PA, RiscvPte.R | RiscvPte.W | RiscvPte.U | RiscvPte.A);

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));

        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
        assertThat(f.memory.readLong(leaf) & RiscvPte.D).isZero();
    }

    @Test
    void ats_dirtyClearWithSade_setsDirtyAndGrantsWrite() {
        f.attachSva(0);
        long leaf = f.map(VA, PA, RiscvPte.R | RiscvPte.W | RiscvPte.U);

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));

        assertThat(c.write()).isTrue();
        assertThat(f.memory.readLong(leaf) & (RiscvPte.A | RiscvPte.D)).isEqualTo(RiscvPte.A | RiscvPte.D);
    }

    @Test
    void ats_supervisorPageForUserRequest_successWithoutAccess() {
        AtsCompletion c = atsFor(RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.D, false);

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isFalse();
        assertThat(c.write()).isFalse();
        assertThat(f.faults).isEmpty();
    }

    @Test
    void ats_privilegedRequestWithEns_privSetInCompletion() {
        f.attachSva(0);
        f.writePc(PASID, RiscvProcessContext.of(PSCID, RiscvProcessContext.TA_ENS,
                RiscvDeviceContext.encodeAtp(8, f.fsRoot)));
        f.map(VA, PA, RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.D);

        AtsCompletion c = f.iommu.translationRequest(new AtsTranslationRequest(DID, true, PASID, VA, false, false, true));

        assertThat(c.read()).isTrue();
        assertThat(c.priv()).isTrue();
    }

    @Test
    void ats_processContextNotValid_successWithoutAccessAndNoRecord() {
        f.attachSva(0);
        f.enableFq(8, false);

        AtsCompletion c = f.iommu.translationRequest(new AtsTranslationRequest(DID, true, PASID + 1, VA, false, false,
                false));

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isFalse();
        assertThat(f.faults).isEmpty();
        assertThat(f.fqRecords()).isEmpty();
    }

    @Test
    void ats_modeBare_unsupportedRequestWithRecord() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_BARE, 0));
        f.enableFq(8, false);

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.UR);
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.cause()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
            assertThat(r.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_ATS_TRANSLATION_REQUEST);
        });
    }

    @Test
    void ats_ddtEntryNotValid_unsupportedRequest() {
        f.attachSva(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));

        assertThat(f.iommu.translationRequest(ats(VA, false)).status()).isEqualTo(CompletionStatus.UR);
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_NOT_VALID);
    }

    @Test
    void ats_firstStageTableOutsideMemory_completerAbort() {
        f.attachSva(0);
        f.memory.writeLong(f.fsRoot + 8L * RiscvPagingMode.SV39.index(VA, 2),
                RiscvPte.encode(RiscvFixture.MEMORY_SIZE, RiscvPte.V));

        assertThat(f.iommu.translationRequest(ats(VA, false)).status()).isEqualTo(CompletionStatus.CA);
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.READ_ACCESS_FAULT);
    }

    @Test
    void translated_t2gpaOff_addressUsedAsIs() {
        f.attachSva(0);

        DmaCompletion d = f.iommu.memoryRequest(RiscvFixture.translated(PA, Access.WRITE));

        assertThat(d.ok()).isTrue();
        assertThat(f.faults).isEmpty();
    }

    @Test
    void t2gpa_completionCarriesGpaAndTranslatedRequestsGoThroughGStage() {
        f.attachSva(0);
        long gRoot = f.frames(4, RiscvPagingMode.G_STAGE_ROOT_SIZE);
        RiscvPageTable g = new RiscvPageTable(f.memory, RiscvPagingMode.SV39X4);
        g.map(gRoot, 0, 0, 1L << 30, USER_RW, f::frame); // the guest's tables, identity
        g.map(gRoot, 1L << 30, PA, 4096, RiscvPte.R | RiscvPte.U | RiscvPte.A, f::frame);
        f.map(VA, 1L << 30, USER_RW);
        f.editDc(dc -> new RiscvDeviceContext(dc.tc() | RiscvDeviceContext.TC_T2GPA,
                RiscvDeviceContext.encodeIohgatp(8, GSCID, gRoot), dc.ta(), dc.fsc()));

        AtsCompletion c = f.iommu.translationRequest(ats(VA, false));
        DmaCompletion read = f.iommu.memoryRequest(RiscvFixture.translated(c.translatedAddr(), Access.READ));
        DmaCompletion write = f.iommu.memoryRequest(RiscvFixture.translated(c.translatedAddr(), Access.WRITE));

        assertThat(c.translatedAddr()).as("a GPA, not the SPA").isEqualTo(1L << 30);
        assertThat(c.read()).isTrue();
        assertThat(c.write()).as("the G-stage page is read-only").isFalse();
        assertThat(read.ok()).isTrue();
        assertThat(write.ok()).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.WRITE_GUEST_PAGE_FAULT);
        assertThat(f.lastFault().addr()).isEqualTo(1L << 30);
    }
}
