package dev.iommulab.drivers.riscv;

import static dev.iommulab.drivers.riscv.RiscvIommuFixture.PASID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.VA;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.drivers.riscv.RiscvIommuFixture.Answer;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.riscv.RiscvCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How a group's answer leaves the lab's RISC-V driver: one {@code ATS.PRGR} command per group (riscv-iommu
 * "IOMMU PCIe ATS commands", reference/iommu-hardware.md §2.4.3) with the kernel's response code value on
 * the wire, the PASID when the request had one, and what the function makes of the code. Not in mainline;
 * derives from intel_iommu_page_response() (intel/prq.c), reference/linux-fault-stack.md §1.2 and §8 item
 * 49, and reference/iommu-hardware.md §1.4 (codes 0010b..1110b are Response Failure to the function).
 */
class RiscvPageResponseTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture().attach();

    /**
     * SUCCESS goes out as 0x0, INVALID as 0x1 and FAILURE as 0x2 (the enum value, as VT-d sends it), in one
     * ATS.PRGR for the group's PRGI to the device's RID with PV and the PASID of the request. The function
     * reads 0x0 as Success, 0x1 as Invalid Request, and the unused 0x2 as Response Failure.
     */
    @ParameterizedTest(name = "{0} -> wire {1} -> {2}")
    @CsvSource({"SUCCESS, 0, SUCCESS", "INVALID, 1, INVALID_REQUEST", "FAILURE, 2, RESPONSE_FAILURE"})
    void pageResponse_handlerCode_sentUnchangedInAtsPrgr(PageResponseCode code, int wire, PrgResponseCode seen) {
        f.answer = code;

        f.send(request(0x123, true, false, false, VA), request(0x123, true, true, true, VA + 0x1000));

        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.SVA, code));
        assertThat(f.prgrCommands()).hasSize(1);
        assertPrgr(f.prgrCommands().get(0), RID, true, PASID, 0x123, wire);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 0x123, wire));
        assertThat(f.prgResponses.get(0).code()).isEqualTo(seen);
        assertThat(f.endpoint.priState().creditsInUse()).as("both credits returned").isZero();
        assertThat(f.endpoint.priState().responseFailure()).isEqualTo(code == PageResponseCode.FAILURE);
    }

    /** One response per group, never one per request: two interleaved groups give two ATS.PRGR commands. */
    @Test
    void pageResponse_twoGroups_oneAtsPrgrPerGroup() {
        f.send(request(1, true, false, false, VA), request(2, true, false, false, VA + 0x8000),
                request(1, true, false, true, VA + 0x1000), request(2, true, false, true, VA + 0x9000));

        assertThat(f.groups).hasSize(2);
        assertThat(f.prgrCommands()).hasSize(2);
        assertThat(f.prgResponses).extracting(PrgResponse::prgi, PrgResponse::wireCode)
                .containsExactly(tuple(1, 0x0), tuple(2, 0x0));
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }

    /**
     * The fields of an {@code ATS.PRGR} command as riscv-iommu places them (iommu-bits.h
     * {@code RISCV_IOMMU_CMD_ATS_*}): opcode 4, func3 1, PID 31:12, PV 32, RID 55:40; payload PRGI 40:32 and
     * response code 47:44.
     */
    static void assertPrgr(RiscvCommand c, int rid, boolean pv, int pasid, int prgi, int code) {
        assertThat(c.opcode()).as("opcode").isEqualTo(RiscvCommand.OPCODE_ATS);
        assertThat(c.func3()).as("func3").isEqualTo(RiscvCommand.FUNC3_ATS_PRGR);
        assertThat((int) (c.qw0() >>> 40 & 0xffff)).as("RID").isEqualTo(rid);
        assertThat((c.qw0() >>> 32 & 1) != 0).as("PV").isEqualTo(pv);
        assertThat((int) (c.qw0() >>> 12 & 0xfffff)).as("PID").isEqualTo(pv ? pasid : 0);
        assertThat((int) (c.qw1() >>> 32 & 0x1ff)).as("PRGI").isEqualTo(prgi);
        assertThat((int) (c.qw1() >>> 44 & 0xf)).as("response code").isEqualTo(code);
    }
}
