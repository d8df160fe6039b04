package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86PageTable;

/**
 * Second-stage translation: scalable PGTT = 010b through the PASID entry's SLPTPTR, AW, SLEE and
 * SSADE, and the legacy context entry's second-level table (TT = 00b/01b) through SLPTPTR and AW.
 * Maps the walk's failures to each mode's fault reasons:
 *
 * <table>
 *   <tr><th>walk</th><th>scalable</th><th>legacy</th></tr>
 *   <tr><td>input above the AW</td><td>0x83</td><td>0x04</td></tr>
 *   <tr><td>table unreadable</td><td>0x7B (top level), 0x78</td><td>0x07</td></tr>
 *   <tr><td>R = W = 0</td><td>0x79</td><td>0x05 write / 0x06 read</td></tr>
 *   <tr><td>reserved bits</td><td>0x7A</td><td>0x0C</td></tr>
 *   <tr><td>address above the host address width</td><td>0x84</td><td>0x0C</td></tr>
 * </table>
 *
 * X grants execute only when SLEE is set; without it an execute request needs R. A/D are set on use
 * only with SSADE (never in legacy mode).
 */
final class SecondStageTranslation {

    /** Host address width of this model, the same as the first stage's reserved-bit boundary. */
    static final int HAW = X86PageTable.MAX_PHYS_ADDR_BITS;

    private final PhysicalMemory memory;
    private final boolean pageWalkCoherent;

    SecondStageTranslation(PhysicalMemory memory, boolean pageWalkCoherent) {
        this.memory = memory;
        this.pageWalkCoherent = pageWalkCoherent;
    }

    VtdSecondStageTable table(int levels) {
        return new VtdSecondStageTable(memory, levels, HAW);
    }

    /** Scalable mode, PGTT = second stage only. */
    Found<Walked> walk(PasidEntry pe, long addr) {
        VtdSecondStageTable table = table(pe.slLevels());
        VtdSecondStageTable.Walk w = table.walk(pe.slptptr(), addr);
        if (!w.ok()) {
            return Found.fault(scalableFault(w.fault(), table.levels()), pe.fpd());
        }
        VtdSecondStageTable.Leaf leaf = w.leaf();
        Translation t = translation(Translation.Kind.SECOND_STAGE, addr, leaf, pe.slee(), pe.ssade());
        return Found.of(new Walked(t, write -> update(table, leaf, pe, write)));
    }

    /** Legacy mode, TT = 00b or 01b: no SLEE, no A/D. */
    Found<Walked> walkLegacy(ContextEntry ctx, long addr, boolean write) {
        VtdSecondStageTable table = table(VtdSecondStageTable.levelsForAw(ctx.aw()));
        VtdSecondStageTable.Walk w = table.walk(ctx.slptptr(), addr);
        if (!w.ok()) {
            return Found.fault(switch (w.fault().cause()) {
                case INPUT_BEYOND_WIDTH -> VtdFaultReason.ADDRESS_BEYOND_MGAW;
                case FETCH_ERROR -> VtdFaultReason.NEXT_TABLE_INVALID;
                case NOT_PRESENT -> write ? VtdFaultReason.WRITE_NOT_PRESENT : VtdFaultReason.READ_NOT_PRESENT;
                case RESERVED_BITS, ADDRESS_BEYOND_HAW -> VtdFaultReason.PTE_RESERVED;
            }, ctx.fpd());
        }
        return Found.of(Walked.withoutUpdates(
                translation(Translation.Kind.LEGACY_SECOND_LEVEL, addr, w.leaf(), false, false)));
    }

    static VtdFaultReason scalableFault(VtdSecondStageTable.Fault fault, int levels) {
        return switch (fault.cause()) {
            case INPUT_BEYOND_WIDTH -> VtdFaultReason.ADDRESS_BEYOND_MAX;
            case FETCH_ERROR -> fault.level() == levels ? VtdFaultReason.SL_ROOT_INVALID : VtdFaultReason.SL_WALK_FETCH;
            case NOT_PRESENT -> VtdFaultReason.SL_NOT_PRESENT;
            case RESERVED_BITS -> VtdFaultReason.SL_RESERVED;
            case ADDRESS_BEYOND_HAW -> VtdFaultReason.SL_ADDRESS_BEYOND_MAX;
        };
    }

    private static Translation translation(Translation.Kind kind, long addr, VtdSecondStageTable.Leaf leaf,
                                           boolean slee, boolean ssade) {
        long size = leaf.pageSize();
        return new Translation(kind, addr & -size, size, leaf.pa() & -size, leaf.read(), leaf.write(),
                slee ? leaf.exec() : leaf.read(), true, !ssade || leaf.dirty());
    }

    /** SSADE: A on the walk, D on the leaf for a write; 0x7C when that needs a snooped walk it lacks. */
    VtdFaultReason update(VtdSecondStageTable table, VtdSecondStageTable.Leaf leaf, PasidEntry pe, boolean write) {
        if (!pe.ssade() || leaf.accessed() && (!write || leaf.dirty())) {
            return null;
        }
        if (!pageWalkCoherent && !pe.pwsnp()) {
            return VtdFaultReason.SL_AD_NO_SNOOP;
        }
        table.setAccessedDirty(leaf, write);
        return null;
    }
}
