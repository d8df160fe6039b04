package dev.iommulab.hw.pgtable;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * RISC-V page tables (Sv39/Sv48/Sv57 first stage, Sv39x4/Sv48x4/Sv57x4 G-stage) read and written in
 * {@link PhysicalMemory}, as the RISC-V IOMMU walks them (reference/iommu-hardware.md §2.4.1;
 * riscv-iommu "Process to translate an IOVA" step 17/19, which defers to the privileged spec).
 *
 * <p>{@link #walk} is the privileged spec's "Virtual Address Translation Process" for one stage,
 * checks in the spec's order: input address (sign- or zero-extension), PTE fetch (access fault),
 * V / W-without-R / reserved bits, leaf or next level, misaligned superpage, U bit, R/W/X, then A/D
 * (set in memory with {@code SADE}/{@code GADE}, else a page fault). Two-stage composition (G-stage
 * translation of first-stage PTE addresses) is the IOMMU model's job: it walks a G-stage table for
 * each first-stage table address.
 *
 * <p>The walk never throws on table contents; {@link #map} throws on bad arguments.
 */
public final class RiscvPageTable {

    private final PhysicalMemory memory;
    private final RiscvPagingMode mode;

    public RiscvPageTable(PhysicalMemory memory, RiscvPagingMode mode) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    public RiscvPagingMode mode() {
        return mode;
    }

    /**
     * Walks the table at {@code root} (the root table's physical address, PPN × 4096) for
     * {@code addr}: an IOVA for a first-stage mode, a GPA for a G-stage mode. A G-stage root must be
     * 16 KiB aligned (the device-context check, cause 259, is the caller's); the walk indexes it with
     * the 11-bit root VPN as given. Reads memory, and writes only the A/D update of the leaf.
     */
    public RiscvWalkResult walk(long root, long addr, RiscvWalkRequest request) {
        int top = mode.levels() - 1;
        if (!mode.isValidInputAddress(addr)) {
            return fault(top, mode.isGStage() ? RiscvWalkResult.Cause.GPA_TOO_WIDE
                    : RiscvWalkResult.Cause.NON_CANONICAL, request, -1);
        }
        long table = root;
        boolean global = false;
        for (int level = top; ; level--) {
            long entryAddr = table + 8L * mode.index(addr, level);
            if (!memory.contains(entryAddr, 8)) {
                return fault(level, RiscvWalkResult.Cause.ACCESS_FAULT, request, entryAddr);
            }
            long pte = memory.readLong(entryAddr);
            RiscvWalkResult.Cause bad = invalidEntry(pte);
            if (bad != null) {
                return fault(level, bad, request, entryAddr);
            }
            global |= (pte & RiscvPte.G) != 0;
            if (RiscvPte.isLeaf(pte)) {
                return leaf(level, addr, entryAddr, pte, global, request);
            }
            if ((pte & RiscvPte.NON_LEAF_RESERVED) != 0) {
                return fault(level, RiscvWalkResult.Cause.RESERVED_BITS, request, entryAddr);
            }
            if (level == 0) {
                return fault(level, RiscvWalkResult.Cause.NO_LEAF, request, entryAddr);
            }
            table = RiscvPte.address(pte);
        }
    }

    /**
     * Privileged spec step 3: V = 0, R = 0 with W = 1, or reserved bits 63:54; null if none. Shared with
     * walks that translate table addresses themselves (the RISC-V IOMMU's nested first stage).
     */
    public static RiscvWalkResult.Cause invalidEntry(long pte) {
        if (!RiscvPte.isValid(pte)) {
            return RiscvWalkResult.Cause.NOT_VALID;
        }
        if (RiscvPte.isWriteWithoutRead(pte)) {
            return RiscvWalkResult.Cause.W_WITHOUT_R;
        }
        if ((pte & RiscvPte.RESERVED_HIGH) != 0) {
            return RiscvWalkResult.Cause.RESERVED_BITS;
        }
        return null;
    }

    /** Privileged spec steps 5 to 10 for the leaf at {@code level}. */
    private RiscvWalkResult leaf(int level, long addr, long entryAddr, long pte, boolean global,
                                 RiscvWalkRequest request) {
        long size = RiscvPagingMode.pageSize(level);
        RiscvWalkResult.Cause cause = leafCause(mode.isGStage(), level, pte, request);
        if (cause != null) {
            return fault(level, cause, request, entryAddr);
        }
        long updated = updatedLeaf(pte, request.access());
        if (updated != pte) {
            // Atomic with the read above: the simulation runs one event at a time.
            memory.writeLong(entryAddr, updated);
        }
        return new RiscvWalkResult.Leaf(RiscvPte.address(updated) | (addr & (size - 1)), size, level,
                (updated & RiscvPte.R) != 0, (updated & RiscvPte.W) != 0, (updated & RiscvPte.X) != 0,
                (updated & RiscvPte.U) != 0, global, (updated & RiscvPte.D) != 0, entryAddr);
    }

    /**
     * Privileged spec steps 5 to 7 for a leaf {@code pte} at {@code level}: a misaligned superpage, the
     * U-bit rule, the R/W/X rights (unless the request skips them), and A/D that need an update the
     * request does not allow; null when the leaf may be used. Shared with walks that translate table
     * addresses themselves (the RISC-V IOMMU's nested first stage).
     *
     * <p>The U-bit rule: G-stage, every access is a user access, so U must be 1. First stage, a user
     * request needs U = 1; a supervisor request to a U = 1 page faults unless SUM = 1, and always for
     * execute (riscv-iommu "Process-context fields", ENS/SUM).
     */
    public static RiscvWalkResult.Cause leafCause(boolean gStage, int level, long pte, RiscvWalkRequest request) {
        if ((RiscvPte.address(pte) & (RiscvPagingMode.pageSize(level) - 1)) != 0) {
            return RiscvWalkResult.Cause.MISALIGNED_SUPERPAGE;
        }
        boolean user = (pte & RiscvPte.U) != 0;
        boolean privilegeOk = gStage || !request.supervisor() ? user
                : !user || (request.sum() && request.access() != Access.EXEC);
        if (!privilegeOk) {
            return RiscvWalkResult.Cause.PRIVILEGE;
        }
        if (request.checkRwx() && !rightsAllow(pte, request.access())) {
            return RiscvWalkResult.Cause.PERMISSION;
        }
        if (updatedLeaf(pte, request.access()) != pte && !request.hardwareAdUpdate()) {
            return (pte & RiscvPte.A) == 0 ? RiscvWalkResult.Cause.ACCESSED_CLEAR : RiscvWalkResult.Cause.DIRTY_CLEAR;
        }
        return null;
    }

    /** The leaf with A set, and D for a store to a writable page: what the hardware writes back. */
    public static long updatedLeaf(long pte, Access access) {
        boolean store = access == Access.WRITE && (pte & RiscvPte.W) != 0;
        return pte | RiscvPte.A | (store ? RiscvPte.D : 0);
    }

    private static boolean rightsAllow(long pte, Access access) {
        long needed = switch (access) {
            case READ -> RiscvPte.R;
            case WRITE -> RiscvPte.W;
            case EXEC -> RiscvPte.X;
        };
        return (pte & needed) != 0;
    }

    private RiscvWalkResult.Fault fault(int level, RiscvWalkResult.Cause cause, RiscvWalkRequest request,
                                        long entryAddr) {
        return new RiscvWalkResult.Fault(mode.stage(), level, cause, request.access(), entryAddr);
    }

    /**
     * Installs a leaf {@code addr -> pa} of {@code pageSize} (4 KiB, 2 MiB, 1 GiB, and 512 GiB /
     * 256 TiB where the mode has the levels) with {@code leafFlags}; V is added. Missing tables
     * below the root are taken from {@code allocateTable} (zeroed 4 KiB frames) and pointed to by
     * entries with V only (D, A, U are reserved in non-leaf entries). The root, 16 KiB for a G-stage
     * mode, is the caller's. A present leaf of the same size is replaced.
     *
     * @param leafFlags R, W, X, U, G, A, D, RSW; at least one of R or X, and not W without R
     * @return the physical address of the leaf entry
     * @throws IllegalArgumentException for a page size the mode lacks, misaligned {@code addr} or
     *                                  {@code pa}, an address the walk would reject, a {@code pa} of 2^56
     *                                  or more, or flags that are not a valid leaf
     * @throws IllegalStateException    when {@code addr} lies inside a present larger page, or a table
     *                                  is present where the leaf goes (it would be orphaned)
     */
    public long map(long root, long addr, long pa, long pageSize, long leafFlags, LongSupplier allocateTable) {
        int leafLevel = mode.levelOf(pageSize);
        checkMapArguments(addr, pa, pageSize, leafFlags);
        long table = root;
        for (int level = mode.levels() - 1; level > leafLevel; level--) {
            long entryAddr = table + 8L * mode.index(addr, level);
            long pte = memory.readLong(entryAddr);
            if (!RiscvPte.isValid(pte)) {
                pte = RiscvPte.encode(allocateTable.getAsLong(), RiscvPte.V);
                memory.writeLong(entryAddr, pte);
            } else if (RiscvPte.isLeaf(pte)) {
                throw new IllegalStateException(String.format("%#x is inside a leaf at level %d", addr, level));
            }
            table = RiscvPte.address(pte);
        }
        long leafAddr = table + 8L * mode.index(addr, leafLevel);
        long old = memory.readLong(leafAddr);
        if (RiscvPte.isValid(old) && !RiscvPte.isLeaf(old)) {
            throw new IllegalStateException(String.format(
                    "a table is present at level %d for %#x; remove it before mapping a leaf there", leafLevel, addr));
        }
        memory.writeLong(leafAddr, RiscvPte.encode(pa, leafFlags | RiscvPte.V));
        return leafAddr;
    }

    private void checkMapArguments(long addr, long pa, long pageSize, long leafFlags) {
        if ((addr & (pageSize - 1)) != 0 || (pa & (pageSize - 1)) != 0) {
            throw new IllegalArgumentException(String.format("addr %#x and pa %#x must be aligned to %#x",
                    addr, pa, pageSize));
        }
        if (!mode.isValidInputAddress(addr)) {
            throw new IllegalArgumentException(String.format("addr %#x is outside the %d-bit space of %s",
                    addr, mode.addressBits(), mode));
        }
        if (pa < 0 || pa >= RiscvPte.PHYS_ADDR_LIMIT) {
            throw new IllegalArgumentException(String.format("pa %#x does not fit a 44-bit PPN", pa));
        }
        long flagBits = 0xffL | RiscvPte.RSW;
        if ((leafFlags & ~flagBits) != 0 || !RiscvPte.isLeaf(leafFlags) || RiscvPte.isWriteWithoutRead(leafFlags)) {
            throw new IllegalArgumentException(String.format(
                    "leafFlags %#x: need R or X, no W without R, no bits above 9", leafFlags));
        }
    }

    /**
     * The physical address of the entry for {@code addr} at {@code level}, following valid non-leaf
     * entries from {@code root}; -1 when a table on the way is missing or a leaf sits above
     * {@code level}. The entry itself may be invalid. For tests and drivers that edit entries.
     */
    public long entryAddress(long root, long addr, int level) {
        if (level < 0 || level >= mode.levels()) {
            throw new IllegalArgumentException(String.format("%s has levels 0 to %d, not %d",
                    mode, mode.levels() - 1, level));
        }
        long table = root;
        for (int l = mode.levels() - 1; l > level; l--) {
            long pte = memory.readLong(table + 8L * mode.index(addr, l));
            if (!RiscvPte.isValid(pte) || RiscvPte.isLeaf(pte)) {
                return -1;
            }
            table = RiscvPte.address(pte);
        }
        return table + 8L * mode.index(addr, level);
    }
}
