package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_DPE;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_EN_ATS;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_EN_PRI;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_GADE;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_PDTV;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_PRPR;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_SADE;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_SBE;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_SXL;
import static dev.iommulab.hw.riscv.RiscvDeviceContext.TC_T2GPA;

import dev.iommulab.hw.pgtable.RiscvPagingMode;

/**
 * The configuration checks of a located context: riscv-iommu "Device-context configuration checks"
 * (DC_MISCONFIG, cause 259) and "Process-context configuration checks" (PC_MISCONFIG, cause 267), for
 * this model's fixed {@code fctl} (little-endian, {@code GXL} = 0 and not writable, so {@code SXL} must
 * be 0 and Sv32 is never supported).
 */
final class ContextChecks {

    private final RiscvConfig config;

    ContextChecks(RiscvConfig config) {
        this.config = config;
    }

    /** Whether a valid ({@code tc.V = 1}) device context is misconfigured. */
    boolean misconfigured(RiscvDeviceContext dc) {
        return reservedBitsSet(dc) || atsPriInconsistent(dc) || translationModesBad(dc);
    }

    private boolean reservedBitsSet(RiscvDeviceContext dc) {
        long taReserved = config.has(RiscvRegs.CAP_QOSID) ? RiscvDeviceContext.TA_RESERVED & ~(0xff_ffffL << 40)
                : RiscvDeviceContext.TA_RESERVED;
        return (dc.tc() & RiscvDeviceContext.TC_RESERVED) != 0 || (dc.ta() & taReserved) != 0
                || (dc.fsc() & RiscvDeviceContext.FSC_RESERVED) != 0;
    }

    private boolean atsPriInconsistent(RiscvDeviceContext dc) {
        boolean ats = dc.has(TC_EN_ATS);
        boolean pri = dc.has(TC_EN_PRI);
        return !config.has(RiscvRegs.CAP_ATS) && (ats || pri || dc.has(TC_PRPR))
                || !ats && (dc.has(TC_T2GPA) || pri)
                || !pri && dc.has(TC_PRPR)
                || !config.has(RiscvRegs.CAP_T2GPA) && dc.has(TC_T2GPA)
                || dc.has(TC_T2GPA) && dc.iohgatpMode() == RiscvDeviceContext.MODE_BARE;
    }

    private boolean translationModesBad(RiscvDeviceContext dc) {
        if (dc.has(TC_PDTV) ? !pdtModeSupported(dc.fscMode()) : !firstStageModeSupported(dc.fscMode())) {
            return true;
        }
        if (!dc.has(TC_PDTV) && dc.has(TC_DPE)) {
            return true;
        }
        int g = dc.iohgatpMode();
        if (!gStageModeSupported(g) || g != RiscvDeviceContext.MODE_BARE && (dc.iohgatp() & 3) != 0) {
            return true;
        }
        if (!config.has(RiscvRegs.CAP_AMO_HWAD) && (dc.has(TC_SADE) || dc.has(TC_GADE))) {
            return true;
        }
        return dc.has(TC_SBE) || dc.has(TC_SXL); // fctl.BE = 0 without capabilities.END; GXL = 0, not writable
    }

    /** Whether a valid ({@code ta.V = 1}) process context is misconfigured. */
    boolean misconfigured(RiscvProcessContext pc) {
        return (pc.ta() & RiscvProcessContext.TA_RESERVED) != 0 || (pc.fsc() & RiscvDeviceContext.FSC_RESERVED) != 0
                || !firstStageModeSupported(pc.fscMode());
    }

    /** {@code iosatp.MODE} with {@code SXL} = 0: Bare, or a supported Sv39/Sv48/Sv57. */
    boolean firstStageModeSupported(int mode) {
        return mode == RiscvDeviceContext.MODE_BARE || supported(AddressSpace.firstStageMode(mode));
    }

    /** {@code iohgatp.MODE} with {@code GXL} = 0: Bare, or a supported Sv39x4/Sv48x4/Sv57x4. */
    private boolean gStageModeSupported(int mode) {
        return mode == RiscvDeviceContext.MODE_BARE || supported(AddressSpace.gStageMode(mode));
    }

    /** Whether {@code capabilities} says the IOMMU implements {@code mode} (null, no mode: false). */
    private boolean supported(RiscvPagingMode mode) {
        return mode != null && config.has(switch (mode) {
            case SV39 -> RiscvRegs.CAP_SV39;
            case SV48 -> RiscvRegs.CAP_SV48;
            case SV57 -> RiscvRegs.CAP_SV57;
            case SV39X4 -> RiscvRegs.CAP_SV39X4;
            case SV48X4 -> RiscvRegs.CAP_SV48X4;
            case SV57X4 -> RiscvRegs.CAP_SV57X4;
        });
    }

    private boolean pdtModeSupported(int mode) {
        return switch (mode) {
            case 0 -> true;
            case RiscvDeviceContext.PDTP_PD8 -> config.has(RiscvRegs.CAP_PD8);
            case RiscvDeviceContext.PDTP_PD17 -> config.has(RiscvRegs.CAP_PD17);
            case RiscvDeviceContext.PDTP_PD20 -> config.has(RiscvRegs.CAP_PD20);
            default -> false;
        };
    }
}
