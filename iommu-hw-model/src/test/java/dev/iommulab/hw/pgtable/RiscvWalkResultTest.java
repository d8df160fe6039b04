package dev.iommulab.hw.pgtable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.pgtable.RiscvWalkResult.Cause;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Fault;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Kind;
import dev.iommulab.hw.pgtable.RiscvWalkResult.Stage;
import org.junit.jupiter.api.Test;

/**
 * Mapping walk faults to RISC-V exception codes, which the RISC-V IOMMU reports as fault CAUSE
 * (reference/iommu-hardware.md §2.4.1 step 6: page fault 12/13/15, guest-page fault 20/21/23, access
 * fault 1/5/7 for execute/read/write; privileged spec scause table).
 */
class RiscvWalkResultTest {

    /** First-stage page faults are 12/13/15. */
    @Test
    void exceptionCode_firstStagePageFault_is12Or13Or15() {
        assertThat(new Fault(Stage.FIRST_STAGE, 0, Cause.NOT_VALID, Access.EXEC, 0).exceptionCode()).isEqualTo(12);
        assertThat(new Fault(Stage.FIRST_STAGE, 0, Cause.NOT_VALID, Access.READ, 0).exceptionCode()).isEqualTo(13);
        assertThat(new Fault(Stage.FIRST_STAGE, 0, Cause.NOT_VALID, Access.WRITE, 0).exceptionCode()).isEqualTo(15);
    }

    /** G-stage page faults are guest-page faults 20/21/23. */
    @Test
    void exceptionCode_gStagePageFault_is20Or21Or23() {
        Fault read = new Fault(Stage.G_STAGE, 2, Cause.PRIVILEGE, Access.READ, 0);

        assertThat(read.kind()).isEqualTo(Kind.GUEST_PAGE_FAULT);
        assertThat(new Fault(Stage.G_STAGE, 2, Cause.PRIVILEGE, Access.EXEC, 0).exceptionCode()).isEqualTo(20);
        assertThat(read.exceptionCode()).isEqualTo(21);
        assertThat(new Fault(Stage.G_STAGE, 2, Cause.PRIVILEGE, Access.WRITE, 0).exceptionCode()).isEqualTo(23);
    }

    /** A PTE fetch the memory rejects is an access fault 1/5/7 in either stage. */
    @Test
    void exceptionCode_accessFault_is1Or5Or7InBothStages() {
        for (Stage stage : Stage.values()) {
            assertThat(new Fault(stage, 1, Cause.ACCESS_FAULT, Access.EXEC, 0).exceptionCode()).isEqualTo(1);
            assertThat(new Fault(stage, 1, Cause.ACCESS_FAULT, Access.READ, 0).kind()).isEqualTo(Kind.ACCESS_FAULT);
            assertThat(new Fault(stage, 1, Cause.ACCESS_FAULT, Access.READ, 0).exceptionCode()).isEqualTo(5);
            assertThat(new Fault(stage, 1, Cause.ACCESS_FAULT, Access.WRITE, 0).exceptionCode()).isEqualTo(7);
        }
    }

    /** Every cause but ACCESS_FAULT is a (guest-)page fault: the code does not tell them apart. */
    @Test
    void kind_everyNonAccessCause_isPageFault() {
        for (Cause cause : Cause.values()) {
            if (cause != Cause.ACCESS_FAULT) {
                assertThat(new Fault(Stage.FIRST_STAGE, 0, cause, Access.READ, -1).kind()).isEqualTo(Kind.PAGE_FAULT);
            }
        }
    }

    /** Records validate their inputs (DESIGN.md §7). */
    @Test
    void fault_nullCause_throws() {
        assertThatThrownBy(() -> new Fault(Stage.FIRST_STAGE, 0, null, Access.READ, 0))
                .isInstanceOf(NullPointerException.class);
    }

    /** SUM only qualifies supervisor requests (riscv-iommu PC.ta: "When ENS is 1, the SUM bit ..."). */
    @Test
    void walkRequest_sumWithoutSupervisor_throws() {
        assertThatThrownBy(() -> new RiscvWalkRequest(Access.READ, false, true, false, true))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(RiscvWalkRequest.supervisor(Access.WRITE, true).withHardwareAdUpdate(true).withoutRwxCheck())
                .isEqualTo(new RiscvWalkRequest(Access.WRITE, true, true, true, false));
        assertThat(RiscvWalkRequest.user(Access.EXEC))
                .isEqualTo(new RiscvWalkRequest(Access.EXEC, false, false, false, true));
    }
}
