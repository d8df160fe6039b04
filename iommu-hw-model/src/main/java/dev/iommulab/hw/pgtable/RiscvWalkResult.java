package dev.iommulab.hw.pgtable;

import java.util.Objects;

/**
 * The outcome of a RISC-V page-table walk ({@link RiscvPageTable#walk}): a leaf with its rights, or
 * the level and cause that stopped the walk. Separate from {@link WalkResult} because the RISC-V
 * causes (and their exception codes) differ from the x86 ones. Derives from the RISC-V Privileged
 * Architecture "Virtual Address Translation Process" and the RISC-V IOMMU fault CAUSE table
 * (reference/iommu-hardware.md §2.4.1, step 6).
 */
public sealed interface RiscvWalkResult permits RiscvWalkResult.Leaf, RiscvWalkResult.Fault {

    /**
     * A leaf that allows the request. Rights are the leaf's own (RISC-V has no rights in non-leaf
     * entries). A is always 1 after a successful walk (it was set, or set by the walk), so it is not
     * reported.
     *
     * @param pa        physical address of the translated byte (for a G-stage walk: the SPA)
     * @param pageSize  size of the page the leaf maps
     * @param level     the spec's {@code i} of the leaf: 0 for 4 KiB, 1 for 2 MiB, 2 for 1 GiB, ...
     * @param global    G set in the leaf or in a non-leaf entry above it
     * @param dirty     D in memory after the walk
     * @param pteAddr   physical address of the leaf entry
     */
    record Leaf(long pa, long pageSize, int level, boolean readable, boolean writable, boolean executable,
                boolean user, boolean global, boolean dirty, long pteAddr)
            implements RiscvWalkResult {
    }

    /**
     * The walk stopped.
     *
     * @param stage     the stage whose table was walked
     * @param level     the spec's {@code i} of the offending entry (the root level for an invalid
     *                  input address)
     * @param cause     why
     * @param access    the access type the walk was asked for
     * @param entryAddr physical address of the offending entry, or -1 when no entry was read
     */
    record Fault(Stage stage, int level, Cause cause, Access access, long entryAddr) implements RiscvWalkResult {

        public Fault {
            Objects.requireNonNull(stage, "stage");
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(access, "access");
        }

        /** Access fault for a PTE fetch the memory rejects; otherwise a (guest-)page fault. */
        public Kind kind() {
            if (cause == Cause.ACCESS_FAULT) {
                return Kind.ACCESS_FAULT;
            }
            return stage == Stage.G_STAGE ? Kind.GUEST_PAGE_FAULT : Kind.PAGE_FAULT;
        }

        /** The exception code for this fault and its access, as the IOMMU reports it in CAUSE. */
        public int exceptionCode() {
            return RiscvWalkResult.exceptionCode(kind(), access);
        }
    }

    /**
     * The RISC-V exception code of {@code kind} for {@code access} (privileged spec, scause table;
     * the RISC-V IOMMU uses the same values as fault CAUSE): access faults 1/5/7, page faults
     * 12/13/15, guest-page faults 20/21/23, for execute/read/write. The IOMMU reports faults of an
     * implicit access (a G-stage walk for a first-stage PTE) with the original access type, so it may
     * pass that instead of the walk's own access.
     */
    static int exceptionCode(Kind kind, Access access) {
        return switch (kind) {
            case ACCESS_FAULT -> byAccess(access, 1, 5, 7);
            case PAGE_FAULT -> byAccess(access, 12, 13, 15);
            case GUEST_PAGE_FAULT -> byAccess(access, 20, 21, 23);
        };
    }

    private static int byAccess(Access access, int exec, int read, int write) {
        return switch (access) {
            case EXEC -> exec;
            case READ -> read;
            case WRITE -> write;
        };
    }

    /** Which translation stage a walk served. */
    enum Stage {
        /** First-stage (S/VS-stage) translation of an IOVA, {@code iosatp} or {@code PC.fsc}. */
        FIRST_STAGE,
        /** G-stage translation of a GPA, {@code iohgatp}. */
        G_STAGE
    }

    /** The class of exception a fault raises. */
    enum Kind {
        ACCESS_FAULT, PAGE_FAULT, GUEST_PAGE_FAULT
    }

    /** Why a walk stopped, in the order the privileged spec's process checks. */
    enum Cause {
        /** First stage: the IOVA's bits above the VA width are not copies of its top bit. */
        NON_CANONICAL,
        /** G-stage: the GPA has bits set above the GPA width (it must be zero-extended). */
        GPA_TOO_WIDE,
        /** Reading the PTE violates PMA/PMP: here, the entry lies outside physical memory. */
        ACCESS_FAULT,
        /** The entry has V = 0. */
        NOT_VALID,
        /** The entry has R = 0 and W = 1, a reserved encoding. */
        W_WITHOUT_R,
        /** Bits 63:54 are set, or D, A or U in a non-leaf entry. */
        RESERVED_BITS,
        /** The level-0 entry points to another table: no leaf within {@code levels} steps. */
        NO_LEAF,
        /** A superpage leaf whose PPN is not aligned to its page size. */
        MISALIGNED_SUPERPAGE,
        /**
         * The U-bit rule: a user request (or any G-stage walk) found U = 0, or a supervisor request found
         * U = 1 with SUM = 0 or for execute.
         */
        PRIVILEGE,
        /** The leaf lacks R, W or X for the access. */
        PERMISSION,
        /** A = 0 and hardware A/D update (SADE/GADE) is off. */
        ACCESSED_CLEAR,
        /** A store found D = 0 and hardware A/D update (SADE/GADE) is off. */
        DIRTY_CLEAR
    }
}
