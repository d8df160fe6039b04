package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;

/**
 * First-stage (PGTT = 001b) and pass-through (100b) translation for a resolved PASID entry: walks the
 * x86-64 table at FLPTPTR, checks U/S, R/W and XD, and sets A/D as the hardware does.
 */
final class FirstStageTranslation {

    /** A translated address, or the fault. */
    record Outcome(long pa, VtdFaultReason fault) {
    }

    private final X86PageTable fourLevel;
    private final X86PageTable fiveLevel;

    FirstStageTranslation(PhysicalMemory memory) {
        this.fourLevel = new X86PageTable(memory, 4);
        this.fiveLevel = new X86PageTable(memory, 5);
    }

    private X86PageTable table(ContextWalk.Result ctx) {
        long flpm = (ctx.pe2() & VtdEntries.PE_FLPM_MASK) >>> VtdEntries.PE_FLPM_SHIFT;
        return flpm == 1 ? fiveLevel : fourLevel;
    }

    private static long root(ContextWalk.Result ctx) {
        return ctx.pe2() & VtdEntries.ADDR_MASK;
    }

    /** Translation for an untranslated memory request. */
    Outcome translate(ContextWalk.Result ctx, DmaRequest request) {
        if (ctx.pgtt() == VtdEntries.PGTT_PASS_THROUGH) {
            return new Outcome(request.addr(), null);
        }
        if (request.priv() && (ctx.pe2() & VtdEntries.PE_SRE) == 0) {
            return new Outcome(0, VtdFaultReason.SM_PASID_SRE_CLEAR);
        }
        X86PageTable table = table(ctx);
        WalkResult walk = table.walk(root(ctx), request.addr());
        if (walk instanceof WalkResult.Fault fault) {
            return new Outcome(0, switch (fault.cause()) {
                case NON_CANONICAL -> VtdFaultReason.NON_CANONICAL;
                case FETCH_ERROR -> VtdFaultReason.FL_WALK_FETCH;
                case NOT_PRESENT -> VtdFaultReason.FL_NOT_PRESENT;
                case RESERVED_BITS -> VtdFaultReason.FL_RESERVED;
            });
        }
        WalkResult.Leaf leaf = (WalkResult.Leaf) walk;
        if (!request.priv() && !leaf.user()) {
            return new Outcome(0, VtdFaultReason.FL_US_VIOLATION);
        }
        if (request.access() == Access.WRITE && !leaf.writable()) {
            return new Outcome(0, VtdFaultReason.FL_NO_WRITE);
        }
        if (request.access() == Access.EXEC && (!leaf.executable() || (ctx.pe2() & VtdEntries.PE_ERE) == 0)) {
            return new Outcome(0, VtdFaultReason.FL_NO_EXECUTE);
        }
        table.setAccessedDirty(leaf, request.access() == Access.WRITE);
        return new Outcome(leaf.pa(), null);
    }

    /**
     * Translation for an ATS Translation Request. A not-present page or one the requester may not use
     * at all gives Success with R = W = 0 and no fault record; partial rights are granted as the tables
     * allow; a table that cannot be fetched gives Completer Abort.
     */
    AtsCompletion atsTranslate(ContextWalk.Result ctx, AtsTranslationRequest request) {
        long page = request.addr() & ~0xfffL;
        if (ctx.pgtt() == VtdEntries.PGTT_PASS_THROUGH) {
            return new AtsCompletion(CompletionStatus.SUCCESS, page, 4096, true, true, true, false);
        }
        if (request.priv() && (ctx.pe2() & VtdEntries.PE_SRE) == 0) {
            return AtsCompletion.error(CompletionStatus.UR);
        }
        X86PageTable table = table(ctx);
        WalkResult walk = table.walk(root(ctx), page);
        if (walk instanceof WalkResult.Fault fault) {
            return switch (fault.cause()) {
                case NON_CANONICAL, NOT_PRESENT -> AtsCompletion.notAccessible();
                case FETCH_ERROR, RESERVED_BITS -> AtsCompletion.error(CompletionStatus.CA);
            };
        }
        WalkResult.Leaf leaf = (WalkResult.Leaf) walk;
        if (!request.priv() && !leaf.user()) {
            return AtsCompletion.notAccessible();
        }
        boolean write = leaf.writable() && !request.noWrite();
        boolean exe = leaf.executable() && (ctx.pe2() & VtdEntries.PE_ERE) != 0;
        table.setAccessedDirty(leaf, write);
        return new AtsCompletion(CompletionStatus.SUCCESS, leaf.pa() & ~0xfffL, 4096, true, write, exe, request.priv());
    }
}
