package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;

/**
 * First-stage translation (PGTT = 001b; VT-d spec §3.6): walks the x86-64 table at FLPTPTR (4 or 5
 * levels by FLPM) for a PASID entry and maps the walk's failures to the scalable-mode fault reasons:
 * non-canonical 0x80, the top-level table unreadable 0x73, a lower one 0x70, P clear 0x71, reserved
 * bits 0x72. Rights (R/W, U/S, XD) are checked by the caller; using the translation sets A, and D for
 * a write, in the leaf.
 */
final class FirstStageTranslation {

    private final X86PageTable fourLevel;
    private final X86PageTable fiveLevel;
    private final boolean pageWalkCoherent;

    FirstStageTranslation(PhysicalMemory memory, boolean pageWalkCoherent) {
        this.fourLevel = new X86PageTable(memory, 4);
        this.fiveLevel = new X86PageTable(memory, 5);
        this.pageWalkCoherent = pageWalkCoherent;
    }

    Found<Walked> walk(PasidEntry pe, long addr) {
        X86PageTable table = pe.flLevels() == 5 ? fiveLevel : fourLevel;
        WalkResult walk = table.walk(pe.flptptr(), addr);
        if (walk instanceof WalkResult.Fault fault) {
            return Found.fault(switch (fault.cause()) {
                case NON_CANONICAL -> VtdFaultReason.NON_CANONICAL;
                case FETCH_ERROR -> fault.level() == table.levels() ? VtdFaultReason.FL_ROOT_FETCH
                        : VtdFaultReason.FL_WALK_FETCH;
                case NOT_PRESENT -> VtdFaultReason.FL_NOT_PRESENT;
                case RESERVED_BITS -> VtdFaultReason.FL_RESERVED;
            }, pe.fpd());
        }
        WalkResult.Leaf leaf = (WalkResult.Leaf) walk;
        long size = leaf.pageSize();
        Translation t = new Translation(Translation.Kind.FIRST_STAGE, addr & -size, size, leaf.pa() & -size, true,
                leaf.writable(), leaf.executable(), leaf.user(), leaf.dirty());
        return Found.of(new Walked(t, write -> {
            if (leaf.accessed() && (!write || leaf.dirty())) {
                return null;
            }
            if (!pageWalkCoherent && !pe.pwsnp()) {
                return VtdFaultReason.FL_AD_NO_SNOOP;
            }
            table.setAccessedDirty(leaf, write);
            return null;
        }));
    }
}
