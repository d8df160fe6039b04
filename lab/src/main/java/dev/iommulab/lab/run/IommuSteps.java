package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.fault.IommuFaultHandler;
import dev.iommulab.core.fault.IommuFaultHandlers;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.Workqueue;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.Attach;
import dev.iommulab.lab.scenario.FailAllocations;
import dev.iommulab.lab.scenario.FaultHandlerStep;
import dev.iommulab.lab.scenario.MapStep;
import dev.iommulab.lab.scenario.RemoveDevice;
import dev.iommulab.lab.scenario.StepHandlers;
import dev.iommulab.lab.scenario.UnmapStep;

/**
 * The kernel-side IOMMU steps: the lab as a device's driver changes the domain at its RID and maps or unmaps it with
 * the IOMMU API; io-pgfault's removal of a device from its queue; injected allocation failures.
 */
final class IommuSteps implements StepHandlers.Iommu {

    private final StepContext ctx;
    private final Machine machine;
    /** The system workqueue ({@code system_wq}), made when a reset handler first needs it. */
    private Workqueue events;

    IommuSteps(StepContext ctx) {
        this.ctx = ctx;
        this.machine = ctx.machine;
    }

    /**
     * Step {@code attach}: the device's RID gets a new DMA domain, the identity domain or the blocking domain.
     * From the group's core-owned (blocking) domain this is iommu_attach_device(); from a domain an earlier step
     * attached, iommu_group_replace_domain() (no blocked window in between); {@code blocked} then is
     * iommu_detach_device(), which returns the lab-owned group to its blocking domain.
     */
    @Override
    public void attach(Attach s) {
        Device dev = machine.knownDevice(s.device());
        IommuCore core = machine.core();
        IommuDomain current = core.getDomainForDev(dev);
        boolean coreOwned = current == null || current == dev.group().blockingDomain()
                || current == dev.group().defaultDomain();
        IommuDomain domain = switch (s.domain()) {
            case "dma" -> core.domainAllocPaging(dev, machine.dma().dmaDomainType(), 0);
            case "identity" -> dev.ops().identityDomain();
            case "unmanaged" -> core.pagingDomainAlloc(dev);
            default -> null;
        };
        if (domain == null && "identity".equals(s.domain())) {
            throw new KernelException(Errno.EOPNOTSUPP, "domain", dev.ops().name() + " has no identity domain");
        }
        if (domain == null) {
            if (!coreOwned) {
                core.detachDevice(current, dev);
            }
        } else if (coreOwned) {
            core.attachDevice(domain, dev);
        } else {
            core.groupReplaceDomain(dev.group(), domain);
        }
        if (domain != null && (domain.type() == DomainType.DMA || domain.type() == DomainType.DMA_FQ)) {
            machine.dma().initDomain(domain, dev);
        }
        ctx.trace("attach", dev.name() + " RID -> " + core.getDomainForDev(dev));
    }

    /**
     * Step {@code map}: fresh zeroed, physically contiguous pages (from the page allocator, so site {@code frame}
     * applies) mapped at {@code iova} in the device's RID domain with iommu_map().
     */
    @Override
    public void map(MapStep s) {
        IommuDomain domain = ctx.ridDomain(s.device());
        long pages = StepContext.pages(s.size());
        FrameAllocator frames = machine.frames();
        long pa = StepContext.allocateContiguous(frames, pages);
        try {
            IommuMap.map(domain, s.iova(), pa, pages * 4096, IommuProt.fromLetters(s.prot()));
        } catch (KernelException e) {
            StepContext.freePages(frames, pa, pages);
            throw e;
        }
        ctx.trace("map", String.format("%s: iommu_map %#x+%#x -> %#x (%s)", s.device(), s.iova(), pages * 4096, pa,
                s.prot()));
    }

    /** Step {@code unmap}: iommu_unmap() in the device's RID domain. */
    @Override
    public void unmap(UnmapStep s) {
        long unmapped = IommuMap.unmap(ctx.ridDomain(s.device()), s.iova(), s.size());
        ctx.trace("unmap", String.format("%s: iommu_unmap %#x+%#x -> %#x bytes", s.device(), s.iova(), s.size(),
                unmapped));
    }

    /** Step {@code remove-device}: iopf_queue_remove_device() on the queue the device is on. */
    @Override
    public void removeDevice(RemoveDevice s) {
        Device dev = machine.knownDevice(s.device());
        machine.iopf().queueRemoveDevice(machine.iopf().queueOf(dev), dev);
    }

    /**
     * Step {@code fault-handler}: iommu_set_fault_handler() on the domain at the device's RID, with the pattern's
     * handler of {@link IommuFaultHandlers}; the reset pattern queues its recovery on the system workqueue.
     */
    @Override
    public void faultHandler(FaultHandlerStep s) {
        IommuDomain domain = ctx.ridDomain(s.device());
        PcieEndpoint ep = machine.endpoint(s.device());
        IommuFaultHandler handler = switch (s.handler()) {
            case "print" -> IommuFaultHandlers.print(machine.log());
            case "reset" -> IommuFaultHandlers.resetDevice(ep, machine.log(), systemWorkqueue());
            default -> IommuFaultHandlers.dumpDeviceState(ep, machine.log());
        };
        machine.legacyFaultReporting().setFaultHandler(domain, handler, null);
        ctx.trace("iommu_set_fault_handler", s.device() + ": " + s.handler() + " handler on " + domain);
    }

    private Workqueue systemWorkqueue() {
        if (events == null) {
            events = new Workqueue("events", machine.loop(), machine.timing().threadWakeNs());
        }
        return events;
    }

    /** Step {@code fail-allocations}: the next {@code count} allocations at {@code site} fail. */
    @Override
    public void failAllocations(FailAllocations s) {
        machine.failures().failNext(s.site(), s.count());
    }
}
