package dev.iommulab.lab.run;

import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.Run;
import dev.iommulab.lab.scenario.Step;
import dev.iommulab.lab.scenario.StepHandlers;
import dev.iommulab.lab.scenario.StepKinds;

/**
 * Performs scenario steps on a machine: {@link StepKinds} routes each step to the handler of its area (SVA, mm,
 * IOMMU, device, user space); {@code run} is performed here.
 */
final class StepExecutor implements StepHandlers {

    private final StepContext ctx;
    private final SvaSteps sva;
    private final MmSteps mm;
    private final IommuSteps iommu;
    private final DeviceSteps device;
    private final UserspaceSteps userspace;

    StepExecutor(Machine machine, Observations observations) {
        this(machine, observations, null);
    }

    /** The executor of the steps of guest {@code guest} (null: the host's). */
    StepExecutor(Machine machine, Observations observations, String guest) {
        this.ctx = new StepContext(machine, observations, guest);
        this.sva = new SvaSteps(ctx);
        this.mm = new MmSteps(ctx);
        this.iommu = new IommuSteps(ctx);
        this.device = new DeviceSteps(ctx);
        this.userspace = new UserspaceSteps(ctx);
    }

    /** Performs {@code step}; a failing kernel call throws {@link KernelException}. */
    void execute(Step step) {
        StepKinds.perform(step, this);
    }

    /** Step {@code run}: until idle, or for a while. */
    @Override
    public void run(Run s) {
        if (s.forNs() == null) {
            ctx.loop.runUntilIdle();
        } else {
            ctx.loop.runFor(s.forNs());
        }
    }

    @Override
    public SvaSteps sva() {
        return sva;
    }

    @Override
    public MmSteps mm() {
        return mm;
    }

    @Override
    public IommuSteps iommu() {
        return iommu;
    }

    @Override
    public DeviceSteps device() {
        return device;
    }

    @Override
    public UserspaceSteps userspace() {
        return userspace;
    }
}
