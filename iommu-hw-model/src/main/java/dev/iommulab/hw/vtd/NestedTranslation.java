package dev.iommulab.hw.vtd;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.ArrayList;
import java.util.List;

/**
 * Nested translation (PGTT = 011b; VT-d spec §3.8): the first-stage table is walked in guest-physical
 * space, so FLPTPTR and every table pointer it holds are GPAs that the second stage translates before
 * the entry can be read, and the first stage's output (a GPA) goes through the second stage too.
 *
 * <p>Faults of the first-stage table accesses: a table GPA above the second stage's width 0x74; the
 * second stage not granting read of the top-level table 0x75, of a lower one 0x76; a second-stage
 * walk that cannot read its own tables 0x7B / 0x78, reserved bits 0x7A, an address above the host
 * width 0x84. The first-stage entries themselves fault as in first-stage-only translation (0x70-0x73,
 * 0x80). The output GPA faults as a second-stage-only input (0x79, 0x7A, ...) except that a GPA above
 * the width is 0x74. Setting A/D in a first-stage entry is a write through the second stage: without
 * W there it faults 0x77.
 *
 * <p>This walk sets A in every first-stage entry it used (as an x86 processor does), D in the leaf
 * for a write, and, with SSADE, A/D in the second-stage entries for the tables written and the page.
 * The translation is cached at 4 KiB granularity.
 */
final class NestedTranslation {

    private final PhysicalMemory memory;
    private final SecondStageTranslation secondStage;
    private final boolean pageWalkCoherent;

    NestedTranslation(PhysicalMemory memory, SecondStageTranslation secondStage, boolean pageWalkCoherent) {
        this.memory = memory;
        this.secondStage = secondStage;
        this.pageWalkCoherent = pageWalkCoherent;
    }

    /** One first-stage entry read during the walk: where it lives and the second-stage leaf mapping it. */
    private record FlEntry(long hpa, boolean leaf, VtdSecondStageTable.Leaf tablePage) {
    }

    Found<Walked> walk(PasidEntry pe, long addr) {
        VtdSecondStageTable sl = secondStage.table(pe.slLevels());
        int levels = pe.flLevels();
        long top = addr >> (12 + 9 * levels - 1);
        if (top != 0 && top != -1) {
            return Found.fault(VtdFaultReason.NON_CANONICAL, pe.fpd());
        }
        List<FlEntry> used = new ArrayList<>();
        boolean writable = true;
        boolean user = true;
        boolean executable = true;
        long tableGpa = pe.flptptr();
        for (int level = levels; level >= 1; level--) {
            long entryGpa = (tableGpa & X86Pte.ADDR_MASK) + 8L * X86Pte.index(addr, level);
            VtdSecondStageTable.Walk sw = sl.walk(pe.slptptr(), entryGpa);
            VtdFaultReason bad = sw.ok() ? (sw.leaf().read() ? null : readDenied(level == levels))
                    : tableFault(sw.fault(), sl.levels(), level == levels);
            if (bad != null) {
                return Found.fault(bad, pe.fpd());
            }
            long hpa = sw.leaf().pa();
            if (!memory.contains(hpa, 8)) {
                return Found.fault(level == levels ? VtdFaultReason.FL_ROOT_FETCH : VtdFaultReason.FL_WALK_FETCH,
                        pe.fpd());
            }
            long pte = memory.readLong(hpa);
            if (!X86Pte.present(pte)) {
                return Found.fault(VtdFaultReason.FL_NOT_PRESENT, pe.fpd());
            }
            if (X86PageTable.hasReservedBits(pte, level)) {
                return Found.fault(VtdFaultReason.FL_RESERVED, pe.fpd());
            }
            writable &= (pte & X86Pte.RW) != 0;
            user &= (pte & X86Pte.US) != 0;
            executable &= (pte & X86Pte.XD) == 0;
            boolean leaf = level == 1 || (pte & X86Pte.PS) != 0;
            used.add(new FlEntry(hpa, leaf, sw.leaf()));
            if (leaf) {
                long span = X86Pte.entrySpan(level);
                long gpa = (pte & X86Pte.ADDR_MASK & ~(span - 1)) | (addr & (span - 1) & ~0xfffL);
                return output(pe, sl, addr, gpa, used, writable, user, executable);
            }
            tableGpa = pte;
        }
        throw new AssertionError("unreachable: level 1 is always a leaf");
    }

    private Found<Walked> output(PasidEntry pe, VtdSecondStageTable sl, long addr, long gpa, List<FlEntry> used,
                                 boolean flWrite, boolean user, boolean flExec) {
        VtdSecondStageTable.Walk w = sl.walk(pe.slptptr(), gpa);
        if (!w.ok()) {
            VtdFaultReason f = w.fault().cause() == VtdSecondStageTable.Cause.INPUT_BEYOND_WIDTH
                    ? VtdFaultReason.NESTED_FL_ADDRESS_BEYOND : SecondStageTranslation.scalableFault(w.fault(), sl.levels());
            return Found.fault(f, pe.fpd());
        }
        VtdSecondStageTable.Leaf page = w.leaf();
        long flLeaf = memory.readLong(used.get(used.size() - 1).hpa());
        boolean flDirty = (flLeaf & X86Pte.D) != 0;
        Translation t = new Translation(Translation.Kind.NESTED, addr & ~0xfffL, 4096, page.pa() & ~0xfffL,
                page.read(), flWrite && page.write(), flExec && (pe.slee() ? page.exec() : page.read()), user,
                flDirty && (!pe.ssade() || page.dirty()));
        return Found.of(new Walked(t, write -> update(pe, sl, used, page, write)));
    }

    private VtdFaultReason update(PasidEntry pe, VtdSecondStageTable sl, List<FlEntry> used,
                                  VtdSecondStageTable.Leaf page, boolean write) {
        for (FlEntry e : used) {
            long pte = memory.readLong(e.hpa());
            long wanted = X86Pte.A | (write && e.leaf() ? X86Pte.D : 0);
            if ((pte & wanted) == wanted) {
                continue;
            }
            if (!e.tablePage().write()) {
                return VtdFaultReason.NESTED_FL_WRITE;
            }
            if (!pageWalkCoherent && !pe.pwsnp()) {
                return VtdFaultReason.FL_AD_NO_SNOOP;
            }
            memory.writeLong(e.hpa(), pte | wanted);
            VtdFaultReason f = secondStage.update(sl, e.tablePage(), pe, true);
            if (f != null) {
                return f;
            }
        }
        return secondStage.update(sl, page, pe, write);
    }

    private static VtdFaultReason readDenied(boolean topLevel) {
        return topLevel ? VtdFaultReason.NESTED_FL_ROOT_READ : VtdFaultReason.NESTED_FL_READ;
    }

    private static VtdFaultReason tableFault(VtdSecondStageTable.Fault f, int slLevels, boolean topLevel) {
        return switch (f.cause()) {
            case INPUT_BEYOND_WIDTH -> VtdFaultReason.NESTED_FL_ADDRESS_BEYOND;
            case NOT_PRESENT -> readDenied(topLevel);
            default -> SecondStageTranslation.scalableFault(f, slLevels);
        };
    }

}
