package dev.iommulab.lab.run;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.lab.scenario.ExitProcess;
import dev.iommulab.lab.scenario.Mmap;
import dev.iommulab.lab.scenario.Mprotect;
import dev.iommulab.lab.scenario.Munmap;
import dev.iommulab.lab.scenario.StepHandlers;

/** The process's own memory steps: mmap(), munmap(), mprotect() and the process's exit. */
final class MmSteps implements StepHandlers.Mm {

    private final StepContext ctx;

    MmSteps(StepContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Step {@code mmap}: a new VMA in the process (mmap() with MAP_FIXED_NOREPLACE; EEXIST when it overlaps one),
     * anonymous or backed by nothing.
     */
    @Override
    public void mmap(Mmap s) {
        ctx.machine.process(s.process()).mmap(s.start(), s.size(), Vma.flagsOf(s.prot()),
                Vma.Backing.of(s.backing()));
        ctx.trace("mmap", String.format("%s: mmap %#x+%#x %s %s", s.process(), s.start(), s.size(), s.prot(),
                s.backing()));
    }

    /** Step {@code munmap}: munmap() of the range; the mmu notifiers of bound SVA domains invalidate it. */
    @Override
    public void munmap(Munmap s) {
        ctx.machine.process(s.process()).munmap(s.start(), s.size());
        ctx.trace("munmap", String.format("%s: munmap %#x+%#x", s.process(), s.start(), s.size()));
    }

    /** Step {@code mprotect}: mprotect() of a wholly mapped range (ENOMEM otherwise). */
    @Override
    public void mprotect(Mprotect s) {
        ctx.machine.process(s.process()).mprotect(s.start(), s.size(), Vma.flagsOf(s.prot()));
        ctx.trace("mprotect", String.format("%s: mprotect %#x+%#x %s", s.process(), s.start(), s.size(), s.prot()));
    }

    /**
     * Step {@code exit-process}: the process drops its own reference to its mm (do_exit() → exit_mm() → mmput());
     * SVA bindings hold no mm user (iommu_sva_bind_device() only grabs the mm), so this is the last mmput and
     * exit_mmap() runs: every mmu notifier's release (on VT-d intel_mm_release(): the PASID entries go to
     * not-present with FPD, no drain), then the VMAs go. A later fault for the mm finds no user and is answered
     * INVALID; the device driver's later sva-unbind clears the entries and drains.
     */
    @Override
    public void exitProcess(ExitProcess s) {
        MmStruct mm = ctx.machine.process(s.process());
        if (mm.users() == 0) {
            throw new KernelException(Errno.ESRCH, "process", s.process() + " has already exited");
        }
        mm.mmput();
        ctx.trace("exit_mm", s.process() + " exits: mm torn down");
    }
}
