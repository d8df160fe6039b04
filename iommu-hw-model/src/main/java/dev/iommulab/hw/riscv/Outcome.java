package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvWalkResult;

/**
 * What a step of the RISC-V "Process to translate an IOVA" yields: a page, or the fault that stops the
 * process (riscv-iommu "Data Structures", section "Process to translate an IOVA").
 */
sealed interface Outcome permits Outcome.Page, Outcome.Fault {

    /**
     * A translation. For two stages the rights are those of both stages together and the size the
     * smaller of the two pages.
     *
     * @param addr   the translated address of the requested byte (an SPA, or a GPA for a lone first stage
     *               under a G-stage)
     * @param gpa    the guest-physical address of the byte (equal to {@code addr} without a G-stage)
     * @param user   first-stage U (true when the first stage is Bare)
     * @param global first-stage G
     * @param dirty  D is set in every stage that is not Bare
     */
    record Page(long addr, long gpa, long pageSize, boolean readable, boolean writable, boolean executable,
                boolean user, boolean global, boolean dirty) implements Outcome {

        static Page identity(long addr) {
            return new Page(addr, addr, 4096, true, true, true, true, false, true);
        }

        static Page of(RiscvWalkResult.Leaf leaf) {
            return new Page(leaf.pa(), leaf.pa(), leaf.pageSize(), leaf.readable(), leaf.writable(),
                    leaf.executable(), leaf.user(), leaf.global(), leaf.dirty());
        }

        long pageBase() {
            return addr & -pageSize;
        }
    }

    /**
     * A fault with its CAUSE, the common reason, and {@code iotval2} (guest-page faults only).
     */
    record Fault(int cause, HwFaultReason reason, long iotval2) implements Outcome {

        static Fault of(int cause, HwFaultReason reason) {
            return new Fault(cause, reason, 0);
        }

        /**
         * A fault of a page-table walk. CAUSE carries {@code original}, the access type of the transaction (an
         * implicit access is reported as the access that caused it); the common reason keeps the walk's own
         * access, so a G-stage refusing the A/D write of a read is {@code PERMISSION_WRITE}.
         */
        static Fault ofWalk(RiscvWalkResult.Fault f, Access original, long iotval2) {
            return new Fault(RiscvWalkResult.exceptionCode(f.kind(), original), reasonOf(f.cause(), f.access()),
                    f.kind() == RiscvWalkResult.Kind.GUEST_PAGE_FAULT ? iotval2 : 0);
        }

        /** reference/iommu-hardware.md §3.4: the precise walk cause behind a page or guest-page fault. */
        static HwFaultReason reasonOf(RiscvWalkResult.Cause cause, Access access) {
            return switch (cause) {
                case NON_CANONICAL, GPA_TOO_WIDE -> HwFaultReason.ADDRESS_SIZE;
                case ACCESS_FAULT -> HwFaultReason.WALK_FETCH_ERROR;
                case NOT_VALID, NO_LEAF -> HwFaultReason.TRANSLATION_NOT_PRESENT;
                case W_WITHOUT_R, RESERVED_BITS, MISALIGNED_SUPERPAGE -> HwFaultReason.PTE_RESERVED_BITS;
                case PRIVILEGE -> HwFaultReason.PERMISSION_PRIVILEGE;
                case ACCESSED_CLEAR, DIRTY_CLEAR -> HwFaultReason.ACCESS_FLAG;
                case PERMISSION -> switch (access) {
                    case READ -> HwFaultReason.PERMISSION_READ;
                    case WRITE -> HwFaultReason.PERMISSION_WRITE;
                    case EXEC -> HwFaultReason.PERMISSION_EXEC;
                };
            };
        }
    }
}
