package dev.iommulab.hw;

import dev.iommulab.hw.FaultSteps.Model;
import dev.iommulab.hw.iommu.WalkStep;
import dev.iommulab.hw.riscv.RiscvCause;
import dev.iommulab.hw.viommu.ViommuFaultReason;
import dev.iommulab.hw.vtd.VtdFaultReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fault-reason taxonomy, one test per row: each vendor reason a model raises and the walk step it stopped at,
 * written out here independently of {@link FaultSteps} (docs/hardware-models.md, "Fault reasons by walk step").
 */
class FaultStepsTest {

    /** Every VT-d reason of the model and its step, written out independently of the table under test. */
    private static final String[] VTD_ROWS = {
        "ROOT_NOT_PRESENT, DEVICE_CONTEXT",
        "CONTEXT_NOT_PRESENT, DEVICE_CONTEXT",
        "CONTEXT_INVALID, DEVICE_CONTEXT",
        "ADDRESS_BEYOND_MGAW, PAGE_TABLE_ROOT",
        "WRITE_DENIED, PAGE_TABLE_ENTRY",
        "WRITE_NOT_PRESENT, PAGE_TABLE_ENTRY",
        "READ_DENIED, PAGE_TABLE_ENTRY",
        "READ_NOT_PRESENT, PAGE_TABLE_ENTRY",
        "NEXT_TABLE_INVALID, PAGE_TABLE_ENTRY",
        "ROOT_TABLE_INVALID, DEVICE_CONTEXT",
        "CONTEXT_TABLE_INVALID, DEVICE_CONTEXT",
        "ROOT_RESERVED, DEVICE_CONTEXT",
        "CONTEXT_RESERVED, DEVICE_CONTEXT",
        "PTE_RESERVED, PAGE_TABLE_ENTRY",
        "TT_BLOCKS, DEVICE_CONTEXT",
        "SM_INVALID_ROOT_TABLE_ADDRESS, DEVICE_CONTEXT",
        "TTM0_REQUEST_WITH_PASID, DEVICE_CONTEXT",
        "TTM0_PAGE_REQUEST, DEVICE_CONTEXT",
        "SM_ROOT_ACCESS, DEVICE_CONTEXT",
        "SM_ROOT_NOT_PRESENT, DEVICE_CONTEXT",
        "SM_ROOT_RESERVED, DEVICE_CONTEXT",
        "SM_CONTEXT_ACCESS, DEVICE_CONTEXT",
        "SM_CONTEXT_NOT_PRESENT, DEVICE_CONTEXT",
        "SM_CONTEXT_RESERVED, DEVICE_CONTEXT",
        "SM_CONTEXT_INVALID, DEVICE_CONTEXT",
        "SM_CONTEXT_DTE_CLEAR, DEVICE_CONTEXT",
        "SM_CONTEXT_PASIDE_CLEAR, DEVICE_CONTEXT",
        "SM_PASID_TOO_LARGE, PASID_TABLE",
        "SM_CONTEXT_PRE_CLEAR, DEVICE_CONTEXT",
        "SM_RID_PASID_ERROR, DEVICE_CONTEXT",
        "SM_PASID_DIR_ACCESS, PASID_TABLE",
        "SM_PASID_DIR_NOT_PRESENT, PASID_TABLE",
        "SM_PASID_DIR_RESERVED, PASID_TABLE",
        "SM_PASID_TABLE_ACCESS, PASID_TABLE",
        "SM_PASID_ENTRY_NOT_PRESENT, PASID_TABLE",
        "SM_PASID_ENTRY_RESERVED, PASID_TABLE",
        "SM_PASID_ENTRY_INVALID, PASID_TABLE",
        "SM_PASID_ERE_CLEAR, PASID_TABLE",
        "SM_PASID_SRE_CLEAR, PASID_TABLE",
        "FL_WALK_FETCH, PAGE_TABLE_ENTRY",
        "FL_NOT_PRESENT, PAGE_TABLE_ENTRY",
        "FL_RESERVED, PAGE_TABLE_ENTRY",
        "FL_ROOT_FETCH, PAGE_TABLE_ROOT",
        "NESTED_FL_ADDRESS_BEYOND, PAGE_TABLE_ROOT",
        "NESTED_FL_ROOT_READ, PAGE_TABLE_ROOT",
        "NESTED_FL_READ, PAGE_TABLE_ENTRY",
        "NESTED_FL_WRITE, PAGE_TABLE_ENTRY",
        "SL_WALK_FETCH, PAGE_TABLE_ENTRY",
        "SL_NOT_PRESENT, PAGE_TABLE_ENTRY",
        "SL_RESERVED, PAGE_TABLE_ENTRY",
        "SL_ROOT_INVALID, PAGE_TABLE_ROOT",
        "SL_AD_NO_SNOOP, PAGE_TABLE_ENTRY",
        "NON_CANONICAL, PAGE_TABLE_ROOT",
        "FL_US_VIOLATION, PAGE_TABLE_ENTRY",
        "NO_EXECUTE, PAGE_TABLE_ENTRY",
        "ADDRESS_BEYOND_MAX, PAGE_TABLE_ROOT",
        "SL_ADDRESS_BEYOND_MAX, PAGE_TABLE_ENTRY",
        "NO_WRITE, PAGE_TABLE_ENTRY",
        "NO_READ, PAGE_TABLE_ENTRY",
        "INTERRUPT_ADDRESS, NONE",
        "FL_AD_NO_SNOOP, PAGE_TABLE_ENTRY",
        "FL_AD_UPDATE_FAILED, PAGE_TABLE_ENTRY",
    };

    static Stream<Arguments> vtdRows() {
        return Arrays.stream(VTD_ROWS).map(r -> r.split(", ")).map(r -> Arguments.of(VtdFaultReason.valueOf(r[0]),
                WalkStep.valueOf(r[1])));
    }

    @ParameterizedTest(name = "VT-d {0} -> {1}")
    @MethodSource("vtdRows")
    void of_vtdReason_step(VtdFaultReason reason, WalkStep step) {
        assertThat(FaultSteps.of(reason)).isEqualTo(step);
        assertThat(FaultSteps.of(Model.VTD, reason.code())).isEqualTo(step);
    }

    /** Every VT-d reason the model defines has a row above, once. */
    @Test
    void of_everyVtdReason_hasARow() {
        assertThat(Arrays.stream(VTD_ROWS).map(r -> r.split(", ")[0]))
                .containsExactlyInAnyOrderElementsOf(Arrays.stream(VtdFaultReason.values()).map(Enum::name).toList());
    }

    @ParameterizedTest(name = "RISC-V cause {0} -> {1}")
    @CsvSource({
        "1, PAGE_TABLE_ENTRY", "5, PAGE_TABLE_ENTRY", "7, PAGE_TABLE_ENTRY",
        "12, PAGE_TABLE_ENTRY", "13, PAGE_TABLE_ENTRY", "15, PAGE_TABLE_ENTRY",
        "20, PAGE_TABLE_ENTRY", "21, PAGE_TABLE_ENTRY", "23, PAGE_TABLE_ENTRY",
        "256, DEVICE_CONTEXT", "257, DEVICE_CONTEXT", "258, DEVICE_CONTEXT", "259, DEVICE_CONTEXT",
        "260, DEVICE_CONTEXT", "261, NONE", "262, NONE", "263, NONE", "264, NONE",
        "265, PASID_TABLE", "266, PASID_TABLE", "267, PASID_TABLE", "268, DEVICE_CONTEXT", "269, PASID_TABLE",
        "270, NONE", "271, NONE", "272, NONE", "273, NONE", "274, PAGE_TABLE_ENTRY",
    })
    void of_riscvCause_step(int cause, WalkStep step) {
        assertThat(FaultSteps.of(Model.RISCV, cause)).isEqualTo(step);
    }

    /** The causes the RISC-V model names are all among the rows above. */
    @Test
    void of_riscvCausesOfTheModel_covered() {
        assertThat(FaultSteps.of(Model.RISCV, RiscvCause.DDT_NOT_VALID)).isEqualTo(WalkStep.DEVICE_CONTEXT);
        assertThat(FaultSteps.of(Model.RISCV, RiscvCause.PDT_NOT_VALID)).isEqualTo(WalkStep.PASID_TABLE);
        assertThat(FaultSteps.of(Model.RISCV, RiscvCause.WRITE_PAGE_FAULT)).isEqualTo(WalkStep.PAGE_TABLE_ENTRY);
    }

    @ParameterizedTest(name = "virtio-iommu {0} -> {1}")
    @CsvSource({"UNKNOWN, NONE", "DOMAIN, DEVICE_CONTEXT", "MAPPING, PAGE_TABLE_ENTRY"})
    void of_virtioReason_step(ViommuFaultReason reason, WalkStep step) {
        assertThat(FaultSteps.of(Model.VIRTIO_IOMMU, reason.code())).isEqualTo(step);
    }

    @ParameterizedTest
    @EnumSource(Model.class)
    void of_codeNoModelDefines_none(Model model) {
        assertThat(FaultSteps.of(model, 0x7ff)).isEqualTo(WalkStep.NONE);
    }
}
