package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.Device;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.riscv.RiscvCause;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Device contexts written at probe: riscv_iommu_probe_device() and riscv_iommu_get_dc()
 * (drivers/iommu/riscv/iommu.c) for a function without PASID; the lab's PASID support (PDTV, DPE, PDT sized for
 * the PASID width, EN_ATS/EN_PRI/PRPR) for an SVA-capable one. Reference: riscv-iommu "Device-context fields",
 * reference/iommu-hardware.md §2.4.1.
 */
class RiscvProbeDeviceTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture();

    /**
     * The accelerator (ATS, PRI, 20 PASID bits): a valid DC reached through the 3-level DDT, with PDTV, DPE,
     * EN_ATS, EN_PRI and SADE (the model updates A/D), no PRPR (the function does not require a PASID on
     * responses), iohgatp Bare, ta 0, and fsc = pdtp PD20 pointing at a zeroed PDT; PASID and ATS are enabled
     * at the function, PRI not yet (that waits for a fault-capable attachment). The context was invalidated
     * (IODIR.INVAL_DDT with DV and the device_id) after it was written.
     */
    @Test
    void probeDevice_svaCapableFunction_validDcWithPdtvAndPd20() {
        RiscvDeviceContext dc = f.dc(RID);

        assertThat(dc.tc()).isEqualTo(RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_PDTV | RiscvDeviceContext.TC_DPE
                | RiscvDeviceContext.TC_EN_ATS | RiscvDeviceContext.TC_EN_PRI | RiscvDeviceContext.TC_SADE);
        assertThat(dc.iohgatp()).as("iohgatp Bare").isZero();
        assertThat(dc.ta()).isZero();
        assertThat(dc.fscMode()).isEqualTo(RiscvDeviceContext.PDTP_PD20);
        assertThat(dc.fscRoot()).isNotZero();
        assertThat(f.memory.read(dc.fscRoot(), 4096)).containsOnly((byte) 0);
        assertThat(f.endpoint.pasidEnabled()).isTrue();
        assertThat(f.endpoint.atsEnabled()).isTrue();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.commands(RiscvCommand.OPCODE_IODIR, RiscvCommand.FUNC3_INVAL_DDT))
                .contains(RiscvCommand.iodirInvalDdt(true, RID));
    }

    /** The function's PRI status says PRG Response PASID Required: DC.tc.PRPR is set as well. */
    @Test
    void probeDevice_prgResponsePasidRequired_setsPrpr() {
        RiscvIommuFixture g = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                RiscvIommuDriver.QueueSizes.DEFAULTS, EndpointOptions.DEFAULTS.withPrgResponsePasidRequired(true));

        assertThat(g.dc(RID).has(RiscvDeviceContext.TC_PRPR)).isTrue();
    }

    /** The PDT mode is the smallest of PD8, PD17, PD20 that covers the function's PASID width. */
    @ParameterizedTest(name = "{0} PASID bits -> pdtp.MODE {1}")
    @CsvSource({"1, 1", "8, 1", "9, 2", "17, 2", "18, 3", "20, 3"})
    void probeDevice_pasidWidth_picksSmallestPdtMode(int pasidBits, int pdtMode) {
        Device d = f.core.probeDevice(f.addEndpoint(new EndpointConfig("acc1", 0x0400, DeviceProfile.ACCELERATOR,
                true, true, pasidBits, 8, 16, 4)), f.driver);

        assertThat(f.dc(d.rid()).fscMode()).isEqualTo(pdtMode);
    }

    /**
     * An IOMMU offering only PD8 gives a 20-bit function a PD8 table (the largest it has); attaching beyond
     * PASID 255 is then refused (see RiscvSetDevPasidTest).
     */
    @Test
    void probeDevice_onlyPd8Offered_usesPd8() {
        RiscvConfig pd8 = RiscvConfig.defaults("riscv-iommu0").withCapabilities(
                RiscvConfig.DEFAULT_CAPABILITIES & ~(RiscvRegs.CAP_PD17 | RiscvRegs.CAP_PD20));

        RiscvIommuFixture g = new RiscvIommuFixture(pd8, RiscvIommuDriver.QueueSizes.DEFAULTS,
                EndpointOptions.DEFAULTS);

        assertThat(g.dc(RID).fscMode()).isEqualTo(RiscvDeviceContext.PDTP_PD8);
    }

    /**
     * A function without PASID keeps what riscv_iommu_probe_device() writes: tc = SADE, not valid (the blocking
     * domain: "translation requests will fault w/ #258"). Its DMA is blocked with UR and a record of CAUSE 258,
     * and the function's ATS stays disabled.
     */
    @Test
    void probeDevice_functionWithoutPasid_dcNotValidAndDmaFaults258() {
        PcieEndpoint nic = f.probePlain("nic0", 0x0500, DeviceProfile.NIC, 0);

        assertThat(f.dc(0x0500)).isEqualTo(new RiscvDeviceContext(RiscvDeviceContext.TC_SADE, 0, 0, 0));
        assertThat(f.read(nic, 0x10_0000, 64).status()).isEqualTo(DmaStatus.UR);
        assertThat(f.hwFaults).extracting(HwFault::rid, HwFault::vendorCode, HwFault::reason, HwFault::recorded)
                .containsExactly(tuple(0x0500, RiscvCause.DDT_NOT_VALID, HwFaultReason.DEVICE_CTX_NOT_PRESENT, true));
    }

    /**
     * DPE: an untranslated request of a PASID-capable function that carries no PASID uses process_id 0
     * (IOMMU_NO_PASID), whose process context is not valid, so the RID is blocked (CAUSE 266) instead of
     * passing through the Bare stages untranslated. The DC of a PASID function without ATS has no EN_ATS.
     */
    @Test
    void probeDevice_requestWithoutPasid_defaultProcessId0IsBlocked() {
        PcieEndpoint dsa = f.probePlain("dsa0", 0x0600, DeviceProfile.GENERIC, 8);

        assertThat(f.read(dsa, 0x10_0000, 64).status()).isEqualTo(DmaStatus.UR);

        assertThat(f.dc(0x0600).tc()).isEqualTo(RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_PDTV
                | RiscvDeviceContext.TC_DPE | RiscvDeviceContext.TC_SADE);
        assertThat(f.hwFaults).extracting(HwFault::rid, HwFault::vendorCode, HwFault::reason)
                .containsExactly(tuple(0x0600, RiscvCause.PDT_NOT_VALID, HwFaultReason.PASID_ENTRY_NOT_PRESENT));
    }
}
