package dev.iommulab.lab.run;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.lab.scenario.PasidStop;
import dev.iommulab.lab.scenario.StepHandlers;
import dev.iommulab.lab.scenario.SvaBind;
import dev.iommulab.lab.scenario.SvaUnbind;
import dev.iommulab.sva.SvaHandle;
import java.util.HashMap;
import java.util.Map;

/** The SVA steps: the lab as the device driver binds and unbinds processes, and stops a PASID before it unbinds. */
final class SvaSteps implements StepHandlers.Sva {

    private final StepContext ctx;
    private final Map<String, SvaHandle> bindings = new HashMap<>();

    SvaSteps(StepContext ctx) {
        this.ctx = ctx;
    }

    /** Step {@code sva-bind}: iommu_sva_bind_device(); the handle is kept for the matching {@code sva-unbind}. */
    @Override
    public void bind(SvaBind s) {
        SvaHandle h = ctx.machine.sva().bindDevice(ctx.machine.device(s.device()), ctx.machine.process(s.process()));
        bindings.put(s.device() + "/" + s.process(), h);
    }

    /** Step {@code sva-unbind}: iommu_sva_unbind_device() of the handle an earlier {@code sva-bind} got. */
    @Override
    public void unbind(SvaUnbind s) {
        SvaHandle h = bindings.get(s.device() + "/" + s.process());
        if (h == null || h.users() == 0) {
            throw new KernelException(Errno.EINVAL, "process", s.device() + " is not bound to " + s.process());
        }
        ctx.machine.sva().unbindDevice(h);
    }

    /**
     * Step {@code pasid-stop}: the device driver stops the device's use of a PASID before it unbinds (the caller
     * guarantee of iommu_sva_unbind_device(), reference/linux-fault-stack.md §4.2; PCIe PASID stop with a Stop
     * Marker): {@link PcieEndpoint#stopPasid} aborts the PASID's work items once their non-posted requests retired,
     * drops its unsent page request groups, finishes an open group with its LPIG and sends a Stop Marker behind
     * them. The step only starts it; the next step runs when the machine is idle. A device without an enabled PASID
     * capability, or a PASID beyond its width, is a step error (EINVAL) that stops nothing.
     */
    @Override
    public void pasidStop(PasidStop s) {
        PcieEndpoint ep = ctx.machine.endpoint(s.device());
        int pasid = ctx.pasidOf(s.pasid(), s.process());
        if (!ep.pasidEnabled()) {
            throw new KernelException(Errno.EINVAL, "device", s.device() + " has no PASID enabled");
        }
        if (pasid >= ep.config().maxPasids()) {
            throw new KernelException(Errno.EINVAL, "pasid", String.format("PASID %d is beyond %s's %d-bit PASIDs",
                    pasid, s.device(), ep.config().pasidBits()));
        }
        ctx.trace("pasid-stop", s.device() + ": device driver stops PASID " + pasid);
        ep.stopPasid(pasid, () -> ctx.trace("pasid-stop",
                s.device() + ": PASID " + pasid + " stopped, Stop Marker sent"));
    }
}
