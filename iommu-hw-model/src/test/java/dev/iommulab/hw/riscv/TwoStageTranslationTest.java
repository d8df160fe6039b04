package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.GSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.PSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static dev.iommulab.hw.riscv.RiscvFixture.readNoPasid;
import static dev.iommulab.hw.riscv.RiscvFixture.writeNoPasid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * First-stage and G-stage translation together: riscv-iommu "Process to translate an IOVA" steps 17-19 and
 * the privileged spec's "Two-Stage Address Translation", with the first-stage table addresses (and PDT
 * addresses) translated by the G-stage as implicit accesses whose faults are guest-page faults of the
 * original access type with {@code iotval2} bits 0/1 (section "Fault/Event-Queue"; reference/iommu-hardware.md
 * §2.4.1).
 */
class TwoStageTranslationTest {

    /** Guest tables live at GPA = SPA + this offset. */
    private static final long GPA_OFFSET = 0x4000_0000L;
    private static final long DATA_GPA = 0x7000_0000L;
    private static final long G_LEAF = RiscvPte.R | RiscvPte.W | RiscvPte.U | RiscvPte.A | RiscvPte.D;

    private final RiscvFixture f = new RiscvFixture();
    private final RiscvPageTable gStage = new RiscvPageTable(f.memory, RiscvPagingMode.SV39X4);
    private final long gRoot = f.frames(4, RiscvPagingMode.G_STAGE_ROOT_SIZE);
    /** SPAs of the guest's Sv39 tables for {@link RiscvFixture#VA}: root, level 1, level 0. */
    private final long[] guestTables = new long[3];

    private void gMap(long gpa, long spa, long flags) {
        gStage.map(gRoot, gpa, spa, 4096, flags, f::frame);
    }

    private void gUnmap(long gpa) {
        f.memory.writeLong(gStage.entryAddress(gRoot, gpa, 0), 0);
    }

    /** A guest Sv39 table mapping VA → DATA_GPA with {@code leafFlags}; every table at GPA = SPA + offset. */
    private long buildGuestTable(long leafFlags) {
        for (int i = 0; i < 3; i++) {
            guestTables[i] = f.frame();
            gMap(guestTables[i] + GPA_OFFSET, guestTables[i], G_LEAF);
        }
        RiscvPagingMode m = RiscvPagingMode.SV39;
        f.memory.writeLong(guestTables[0] + 8L * m.index(VA, 2), RiscvPte.encode(guestTables[1] + GPA_OFFSET, RiscvPte.V));
        f.memory.writeLong(guestTables[1] + 8L * m.index(VA, 1), RiscvPte.encode(guestTables[2] + GPA_OFFSET, RiscvPte.V));
        f.memory.writeLong(leafSpa(), RiscvPte.encode(DATA_GPA, leafFlags | RiscvPte.V));
        return guestTables[0] + GPA_OFFSET;
    }

    private long leafSpa() {
        return guestTables[2] + 8L * RiscvPagingMode.SV39.index(VA, 0);
    }

    private void attachGuest(long tcExtra, long fsc) {
        f.ddt(RiscvRegs.DDTP_MODE_2LVL);
        f.writeDc(DID, new RiscvDeviceContext(RiscvDeviceContext.TC_V | tcExtra,
                RiscvDeviceContext.encodeIohgatp(8, GSCID, gRoot), RiscvDeviceContext.encodeTa(PSCID), fsc));
    }

    private HwFault fault(DmaRequest r) {
        assertThat(f.iommu.memoryRequest(r).ok()).isFalse();
        return f.lastFault();
    }

    @Test
    void translate_gStageOnly_gpaTranslatedToSpa() {
        attachGuest(0, 0);
        gMap(DATA_GPA, PA, G_LEAF);

        assertThat(f.iommu.memoryRequest(writeNoPasid(DATA_GPA + 0x10, new byte[] {4, 5})).ok()).isTrue();

        assertThat(f.memory.read(PA + 0x10, 2)).containsExactly(4, 5);
    }

    @Test
    void translate_twoStages_firstStageTablesReadThroughGStage() {
        long root = buildGuestTable(RiscvFixture.USER_RW);
        attachGuest(0, RiscvDeviceContext.encodeAtp(8, root));
        gMap(DATA_GPA, PA, G_LEAF);

        assertThat(f.iommu.memoryRequest(writeNoPasid(VA + 0x20, new byte[] {6})).ok()).isTrue();

        assertThat(f.memory.read(PA + 0x20, 1)).containsExactly(6);
    }

    @Test
    void translate_finalGpaNotMapped_readGuestPageFaultWithGpaInIotval2() {
        long root = buildGuestTable(RiscvFixture.USER_RW);
        attachGuest(0, RiscvDeviceContext.encodeAtp(8, root));
        f.enableFq(8, false);

        HwFault fault = fault(readNoPasid(VA + 0x44));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.READ_GUEST_PAGE_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.TRANSLATION_NOT_PRESENT);
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.iotval()).isEqualTo(VA + 0x44);
            assertThat(r.iotval2()).isEqualTo(DATA_GPA + 0x44);
        });
    }

    @Test
    void translate_firstStageTableNotMappedInGStage_guestPageFaultOfImplicitRead() {
        long root = buildGuestTable(RiscvFixture.USER_RW);
        attachGuest(0, RiscvDeviceContext.encodeAtp(8, root));
        gUnmap(guestTables[2] + GPA_OFFSET);
        f.enableFq(8, false);

        HwFault fault = fault(RiscvFixture.writeNoPasid(VA, new byte[1]));

        assertThat(fault.vendorCode()).as("reported with the original access type").isEqualTo(
                RiscvCause.WRITE_GUEST_PAGE_FAULT);
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::iotval2)
                .isEqualTo(leafSpa() + GPA_OFFSET | RiscvFaultRecord.IOTVAL2_IMPLICIT);
    }

    @Test
    void translate_adUpdateToReadOnlyGStagePage_guestPageFaultOfImplicitWrite() {
        long root = buildGuestTable(RiscvPte.R | RiscvPte.U);
        attachGuest(RiscvDeviceContext.TC_SADE, RiscvDeviceContext.encodeAtp(8, root));
        gMap(guestTables[2] + GPA_OFFSET, guestTables[2], RiscvPte.R | RiscvPte.U | RiscvPte.A);
        gMap(DATA_GPA, PA, G_LEAF);
        f.enableFq(8, false);

        HwFault fault = fault(readNoPasid(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.READ_GUEST_PAGE_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PERMISSION_WRITE);
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::iotval2).isEqualTo(leafSpa()
                + GPA_OFFSET | RiscvFaultRecord.IOTVAL2_IMPLICIT | RiscvFaultRecord.IOTVAL2_IMPLICIT_WRITE);
        assertThat(f.memory.readLong(leafSpa()) & RiscvPte.A).isZero();
    }

    @Test
    void translate_pdtNotMappedInGStage_guestPageFaultOfImplicitRead() {
        long pdtSpa = f.frame();
        attachGuest(RiscvDeviceContext.TC_PDTV, RiscvDeviceContext.encodeAtp(RiscvDeviceContext.PDTP_PD8,
                pdtSpa + GPA_OFFSET));
        f.enableFq(8, false);

        HwFault fault = fault(read(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.READ_GUEST_PAGE_FAULT);
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::iotval2)
                .isEqualTo(pdtSpa + GPA_OFFSET + 16L * PASID | RiscvFaultRecord.IOTVAL2_IMPLICIT);
    }

    @Test
    void translate_pdtMappedInGStage_processContextFound() {
        long pdtSpa = f.frame();
        gMap(pdtSpa + GPA_OFFSET, pdtSpa, G_LEAF);
        long root = buildGuestTable(RiscvFixture.USER_RW);
        new RiscvProcessContext(RiscvProcessContext.TA_V, RiscvDeviceContext.encodeAtp(8, root))
                .writeTo(f.memory, pdtSpa + 16L * PASID);
        attachGuest(RiscvDeviceContext.TC_PDTV, RiscvDeviceContext.encodeAtp(RiscvDeviceContext.PDTP_PD8,
                pdtSpa + GPA_OFFSET));
        gMap(DATA_GPA, PA, G_LEAF);

        assertThat(f.iommu.memoryRequest(read(VA)).ok()).isTrue();
    }

    @Test
    void translate_writeToGStageReadOnlyPage_writeGuestPageFault23() {
        attachGuest(0, 0);
        gMap(DATA_GPA, PA, RiscvPte.R | RiscvPte.U | RiscvPte.A);

        HwFault fault = fault(writeNoPasid(DATA_GPA, new byte[1]));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.WRITE_GUEST_PAGE_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.PERMISSION_WRITE);
    }

    @Test
    void translate_gpaWiderThanSv39x4_guestPageFaultAddressSize() {
        attachGuest(0, 0);

        HwFault fault = fault(readNoPasid(1L << 41));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.READ_GUEST_PAGE_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.ADDRESS_SIZE);
    }

    @Test
    void translate_gStageAccessedClear_faultsWithoutGadeAndIsSetWithGade() {
        attachGuest(0, 0);
        long leaf = gStage.map(gRoot, DATA_GPA, PA, 4096, RiscvPte.R | RiscvPte.U, f::frame);
        assertThat(fault(readNoPasid(DATA_GPA)).reason()).isEqualTo(HwFaultReason.ACCESS_FLAG);

        f.editDc(dc -> dc.with(RiscvDeviceContext.TC_GADE));
        f.enableCq(8, false);
        f.submit(RiscvCommand.iodirInvalDdt(true, DID));

        assertThat(f.iommu.memoryRequest(readNoPasid(DATA_GPA)).ok()).isTrue();
        assertThat(f.memory.readLong(leaf) & RiscvPte.A).isNotZero();
    }

    @Test
    void translate_firstStagePteOutsideMemory_readAccessFault5() {
        f.attachNoPasid(0);
        f.memory.writeLong(f.fsRoot + 8L * RiscvPagingMode.SV39.index(VA, 2),
                RiscvPte.encode(RiscvFixture.MEMORY_SIZE, RiscvPte.V));

        HwFault fault = fault(readNoPasid(VA));

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.READ_ACCESS_FAULT);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.WALK_FETCH_ERROR);
    }

    @Test
    void ats_firstStageSuperpageOverGStage4k_completionHasSmallerPage() {
        attachGuest(RiscvDeviceContext.TC_EN_ATS, 0);
        long guestRoot = f.frame();
        gMap(guestRoot + GPA_OFFSET, guestRoot, G_LEAF);
        long l1 = f.frame();
        gMap(l1 + GPA_OFFSET, l1, G_LEAF);
        f.memory.writeLong(guestRoot + 8L * RiscvPagingMode.SV39.index(VA, 2), RiscvPte.encode(l1 + GPA_OFFSET, RiscvPte.V));
        f.memory.writeLong(l1 + 8L * RiscvPagingMode.SV39.index(VA, 1),
                RiscvPte.encode(DATA_GPA, RiscvFixture.USER_RW | RiscvPte.V));
        f.editDc(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta(),
                RiscvDeviceContext.encodeAtp(8, guestRoot + GPA_OFFSET)));
        gMap(DATA_GPA + 0x3000, PA, G_LEAF);

        AtsCompletion c = f.iommu.translationRequest(new AtsTranslationRequest(DID, false, 0, VA + 0x3000, false, false,
                false));

        assertThat(c.read()).isTrue();
        assertThat(c.write()).isTrue();
        assertThat(c.pageSize()).isEqualTo(4096);
        assertThat(c.translatedAddr()).isEqualTo(PA);
    }

    /**
     * The nested first-stage walk agrees with {@link RiscvPageTable}'s single-stage walk when the G-stage is
     * the identity (one 1 GiB leaf): same outcome, same CAUSE, same data.
     */
    @ParameterizedTest
    @CsvSource({"0xd7, READ", "0xd7, WRITE", "0x53, WRITE", "0x17, READ", "0x17, WRITE", "0x05, READ", "0x00, READ",
            "0xc7, READ", "0xd9, EXEC", "0xd9, READ", "0x10000000000000d7, READ", "0x57, WRITE"})
    void translate_identityGStage_agreesWithSingleStageWalk(String pteFlags, Access access) {
        long flags = Long.decode(pteFlags);
        RiscvFixture single = outcomeFixture(flags, false);
        RiscvFixture nested = outcomeFixture(flags, true);
        DmaRequest r = new DmaRequest(DID, AddressType.UNTRANSLATED, false, 0, VA, 8, access, false,
                access == Access.WRITE ? WriteData.of(new byte[8]) : null);

        DmaCompletion a = single.iommu.memoryRequest(r);
        DmaCompletion b = nested.iommu.memoryRequest(r);

        assertThat(b.status()).isEqualTo(a.status());
        assertThat(b.data()).isEqualTo(a.data());
        assertThat(nested.causes()).isEqualTo(single.causes());
        assertThat(nested.faults).extracting(HwFault::reason).isEqualTo(single.faults.stream().map(HwFault::reason)
                .toList());
    }

    private static RiscvFixture outcomeFixture(long leafPte, boolean identityGStage) {
        RiscvFixture x = new RiscvFixture();
        x.attachNoPasid(0);
        long leaf = x.map(VA, PA, RiscvFixture.USER_RW);
        x.memory.writeLong(leaf, leafPte & ~RiscvPte.PPN_MASK | RiscvPte.encode(PA, 0));
        x.memory.writeLong(PA, 0x0102_0304_0506_0708L);
        if (identityGStage) {
            long root = x.frames(4, RiscvPagingMode.G_STAGE_ROOT_SIZE);
            new RiscvPageTable(x.memory, RiscvPagingMode.SV39X4).map(root, 0, 0, 1L << 30, G_LEAF | RiscvPte.X,
                    x::frame);
            x.editDc(dc -> new RiscvDeviceContext(dc.tc(), RiscvDeviceContext.encodeIohgatp(8, 1, root), dc.ta(),
                    dc.fsc()));
        }
        return x;
    }
}
