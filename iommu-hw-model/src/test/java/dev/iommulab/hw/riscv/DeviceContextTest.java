package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.readNoPasid;
import static dev.iommulab.hw.riscv.RiscvFixture.writeNoPasid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pgtable.Access;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ddtp.iommu_mode}, the DDT walk and the device-context checks: riscv-iommu "Process to translate an
 * IOVA" steps 1-6, "Process to locate the Device-context" and "Device-context configuration checks"
 * (reference/iommu-hardware.md §2.4.1, causes 256-260).
 */
class DeviceContextTest {

    private final RiscvFixture f = new RiscvFixture();

    private HwFault readFault() {
        assertThat(f.iommu.memoryRequest(readNoPasid(VA)).ok()).isFalse();
        return f.lastFault();
    }

    @Test
    void translate_modeOff_allInboundDisallowed256() {
        f.enableFq(8, false);

        HwFault fault = readFault();

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.ALL_INBOUND_DISALLOWED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.IOMMU_BLOCKED_ALL);
        assertThat(f.fqRecords()).singleElement().satisfies(r -> {
            assertThat(r.ttyp()).isEqualTo(RiscvFaultRecord.TTYP_UNTRANSLATED_READ);
            assertThat(r.did()).isEqualTo(DID);
            assertThat(r.pv()).isFalse();
        });
    }

    @Test
    void translate_modeBare_untranslatedPassesThroughUnchanged() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_BARE, 0));

        assertThat(f.iommu.memoryRequest(writeNoPasid(PA, new byte[] {1, 2, 3})).ok()).isTrue();

        assertThat(f.memory.read(PA, 3)).containsExactly(1, 2, 3);
        assertThat(f.faults).isEmpty();
    }

    @Test
    void translate_modeBareTranslatedRequest_disallowed260() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_BARE, 0));

        assertThat(f.iommu.memoryRequest(RiscvFixture.translated(PA, Access.READ)).ok()).isFalse();

        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
    }

    @ParameterizedTest
    @ValueSource(ints = {RiscvRegs.DDTP_MODE_1LVL, RiscvRegs.DDTP_MODE_2LVL, RiscvRegs.DDTP_MODE_3LVL})
    void locate_eachDdtDepth_translatesThroughDeviceContext(int mode) {
        int did = mode == RiscvRegs.DDTP_MODE_1LVL ? 0x35 : mode == RiscvRegs.DDTP_MODE_2LVL ? 0xbeef : 0x12_3456;
        f.ddt(mode);
        f.fsRoot = f.frame();
        f.writeDc(did, new RiscvDeviceContext(RiscvDeviceContext.TC_V, 0, RiscvDeviceContext.encodeTa(1),
                RiscvDeviceContext.encodeAtp(8, f.fsRoot)));
        f.map(VA, PA, USER_RW);
        f.memory.writeLong(PA, 0x1122_3344_5566_7788L);

        var d = f.iommu.memoryRequest(new dev.iommulab.hw.iommu.DmaRequest(did,
                dev.iommulab.hw.iommu.AddressType.UNTRANSLATED, false, 0, VA, 8, Access.READ, false, null));

        assertThat(d.ok()).isTrue();
        assertThat(d.data()).containsExactly(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11);
    }

    @Test
    void locate_deviceIdTooWideForOneLevel_disallowed260() {
        f.ddt(RiscvRegs.DDTP_MODE_1LVL);

        HwFault fault = readFault(); // DID 0x100 needs DDI[1]

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.TRANSACTION_TYPE_DISALLOWED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.DEVICE_ID_OUT_OF_RANGE);
    }

    @Test
    void locate_nonLeafEntryNotValid_ddtEntryNotValid258() {
        f.ddt(RiscvRegs.DDTP_MODE_3LVL);

        assertThat(readFault().vendorCode()).isEqualTo(RiscvCause.DDT_NOT_VALID);
    }

    @Test
    void locate_nonLeafReservedBit_misconfigured259() {
        f.attachNoPasid(0);
        f.memory.writeLong(f.ddtRoot, f.memory.readLong(f.ddtRoot) | 1L << 5);

        HwFault fault = readFault();

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.DEVICE_CTX_MISCONFIGURED);
    }

    @Test
    void locate_ddtOutsideMemory_loadAccessFault257() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_1LVL, RiscvFixture.MEMORY_SIZE));
        f.enableFq(8, false);

        var d = f.iommu.memoryRequest(new dev.iommulab.hw.iommu.DmaRequest(0x10,
                dev.iommulab.hw.iommu.AddressType.UNTRANSLATED, false, 0, VA, 8, Access.READ, false, null));

        assertThat(d.ok()).isFalse();
        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_LOAD_ACCESS_FAULT);
        assertThat(f.lastFault().reason()).isEqualTo(HwFaultReason.DEVICE_CTX_FETCH_ERROR);
        assertThat(f.lastFault().recorded()).isTrue();
    }

    @Test
    void locate_deviceContextNotValid_258() {
        f.attachNoPasid(0);
        f.editDc(dc -> dc.without(RiscvDeviceContext.TC_V));

        assertThat(readFault().reason()).isEqualTo(HwFaultReason.DEVICE_CTX_NOT_PRESENT);
    }

    static Stream<Arguments> misconfigurations() {
        return Stream.of(
                Arguments.of("reserved tc bit 12", op(dc -> dc.with(1L << 12))),
                Arguments.of("reserved tc bit 40", op(dc -> dc.with(1L << 40))),
                Arguments.of("EN_PRI without EN_ATS", op(dc -> dc.with(RiscvDeviceContext.TC_EN_PRI))),
                Arguments.of("T2GPA without EN_ATS", op(dc -> dc.with(RiscvDeviceContext.TC_T2GPA))),
                Arguments.of("PRPR without EN_PRI", op(dc -> dc.with(RiscvDeviceContext.TC_EN_ATS
                        | RiscvDeviceContext.TC_PRPR))),
                Arguments.of("T2GPA with Bare iohgatp", op(dc -> dc.with(RiscvDeviceContext.TC_EN_ATS
                        | RiscvDeviceContext.TC_T2GPA))),
                Arguments.of("DPE without PDTV", op(dc -> dc.with(RiscvDeviceContext.TC_DPE))),
                Arguments.of("SBE without capabilities.END", op(dc -> dc.with(RiscvDeviceContext.TC_SBE))),
                Arguments.of("SXL with fctl.GXL fixed at 0", op(dc -> dc.with(RiscvDeviceContext.TC_SXL))),
                Arguments.of("iosatp MODE 7 reserved", op(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta(),
                        RiscvDeviceContext.encodeAtp(7, 0x10_0000)))),
                Arguments.of("iosatp reserved bit 50", op(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta(),
                        dc.fsc() | 1L << 50))),
                Arguments.of("pdtp MODE 4 reserved", op(dc -> new RiscvDeviceContext(dc.tc()
                        | RiscvDeviceContext.TC_PDTV, dc.iohgatp(), dc.ta(), RiscvDeviceContext.encodeAtp(4, 0)))),
                Arguments.of("iohgatp MODE 1 reserved", op(dc -> new RiscvDeviceContext(dc.tc(),
                        RiscvDeviceContext.encodeAtp(1, 0x10_0000), dc.ta(), dc.fsc()))),
                Arguments.of("iohgatp root not 16 KiB aligned", op(dc -> new RiscvDeviceContext(dc.tc(),
                        RiscvDeviceContext.encodeAtp(8, 0x10_1000), dc.ta(), dc.fsc()))),
                Arguments.of("ta reserved bit 3", op(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(), dc.ta() | 8,
                        dc.fsc()))),
                Arguments.of("ta RCID without QOSID", op(dc -> new RiscvDeviceContext(dc.tc(), dc.iohgatp(),
                        dc.ta() | 1L << 41, dc.fsc()))));
    }

    private static UnaryOperator<RiscvDeviceContext> op(UnaryOperator<RiscvDeviceContext> o) {
        return o;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("misconfigurations")
    void locate_misconfiguredContext_259(String what, UnaryOperator<RiscvDeviceContext> change) {
        f.attachNoPasid(0);
        f.editDc(change);

        HwFault fault = readFault();

        assertThat(fault.vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
        assertThat(fault.reason()).isEqualTo(HwFaultReason.DEVICE_CTX_MISCONFIGURED);
    }

    @Test
    void locate_hardwareAdUpdateWithoutAmoHwad_259() {
        RiscvFixture noHwad = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_AMO_HWAD));
        noHwad.attachNoPasid(RiscvDeviceContext.TC_SADE);

        noHwad.iommu.memoryRequest(readNoPasid(VA));

        assertThat(noHwad.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
    }

    @Test
    void locate_atsWithoutAtsCapability_259() {
        RiscvFixture noAts = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_ATS));
        noAts.attachNoPasid(RiscvDeviceContext.TC_EN_ATS);

        noAts.iommu.memoryRequest(readNoPasid(VA));

        assertThat(noAts.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
    }

    @Test
    void locate_sv57WithoutCapability_259() {
        RiscvFixture noSv57 = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_SV57));
        noSv57.attachNoPasid(0);
        noSv57.editDc(dc -> new RiscvDeviceContext(dc.tc(), 0, dc.ta(), RiscvDeviceContext.encodeAtp(10, 0x10_0000)));

        noSv57.iommu.memoryRequest(readNoPasid(VA));

        assertThat(noSv57.lastFault().vendorCode()).isEqualTo(RiscvCause.DDT_MISCONFIGURED);
    }
}
