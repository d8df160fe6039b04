package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.dma.DmaDirection;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.PciReset;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaPayload;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import dev.iommulab.lab.scenario.Dma;
import dev.iommulab.lab.scenario.Flr;
import dev.iommulab.lab.scenario.PageRequest;
import dev.iommulab.lab.scenario.StepHandlers;
import dev.iommulab.lab.scenario.StopMarker;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The device steps: what an endpoint does on the wire — DMA (at a process's PASID, a raw PASID, without PASID, or
 * through the DMA API), raw page requests and Stop Markers — and its Function Level Reset.
 */
final class DeviceSteps implements StepHandlers.Device {

    private final StepContext ctx;
    private final Machine machine;

    DeviceSteps(StepContext ctx) {
        this.ctx = ctx;
        this.machine = ctx.machine;
    }

    /**
     * Step {@code dma}: with {@code process} at that process's SVA PASID, with {@code pasid} at a raw PASID (one
     * attached through iommufd), else without PASID. A write that completes is compared with the memory it was meant
     * for: the process's own for SVA; for a device bound to a process's iommufd, the process memory behind the IOVA
     * ({@code ioas-map}). The work item is of the full {@code size}, however long: a write's bytes are the next
     * {@code size} bytes of the loop's random source ({@link DmaPayload#drawn}, eight per 64-bit draw), made chunk by
     * chunk as the device sends them, and a read keeps none of its bytes, so memory does not grow with
     * {@code size}.
     */
    @Override
    public void dma(Dma s) {
        int pasid = ctx.pasidOf(s.pasid(), s.process());
        Access access = Access.valueOf(s.access().toUpperCase(Locale.ROOT));
        DmaPayload payload = access == Access.WRITE ? DmaPayload.drawn(ctx.loop.random(), s.size()) : null;
        if (s.viaDmaApi()) {
            dmaApi(s, access, payload);
            return;
        }
        DmaJob job = DmaJob.streaming(s.addr(), s.size(), access, pasid, s.privileged(), payload);
        if (s.descriptor() != null) {
            job = job.withDescriptor(s.descriptor(), Dma.DESCRIPTOR_BYTES);
        }
        start(s, pasid, job, outcome -> { });
    }

    private void start(Dma s, int pasid, DmaJob job, Consumer<DmaOutcome> done) {
        Observations.DmaItem item = new Observations.DmaItem(s.device(), pasid >= 0 ? pasid : null, s.process(), job,
                ctx.observations.step);
        ctx.observations.dma.add(item);
        machine.endpoint(s.device()).startDma(job, outcome -> {
            if (s.process() != null) {
                item.finish(outcome, machine.process(s.process()), job.addr());
            } else {
                VfioProcess owner = s.viaDmaApi() ? null : machine.vfioOwner(s.device());
                long va = owner == null ? -1 : owner.userVa(job.addr(), job.size());
                item.finish(outcome, va < 0 ? null : owner.mm(), va);
            }
            done.accept(outcome);
        });
    }

    /**
     * A {@code dma} without {@code addr} or {@code process}, through the DMA API: the lab, as the device's driver,
     * takes a zeroed buffer from the page allocator, maps it with dma_map_single() (DMA_FROM_DEVICE for a write,
     * DMA_TO_DEVICE for a read), the device works at the returned IOVA, and when it is done the lab calls
     * dma_unmap_single() and frees the buffer, as a driver's completion handler does. Under {@code dma.flush: lazy}
     * the IOTLB may keep translating the IOVA to the freed buffer until the flush queue flushes.
     */
    private void dmaApi(Dma s, Access access, DmaPayload payload) {
        Device dev = machine.knownDevice(s.device());
        IommuDma api = machine.dma();
        DmaDirection dir = access == Access.WRITE ? DmaDirection.DMA_FROM_DEVICE : DmaDirection.DMA_TO_DEVICE;
        FrameAllocator frames = machine.frames();
        long pages = StepContext.pages(s.size());
        long buf = StepContext.allocateContiguous(frames, pages);
        long iova;
        try {
            iova = api.dmaMapSingle(dev, buf, s.size(), dir);
        } catch (KernelException e) {
            StepContext.freePages(frames, buf, pages);
            throw e;
        }
        ctx.trace("dma_map_single", String.format("%s: %#x+%#x %s -> IOVA %#x", s.device(), buf, s.size(), dir,
                iova));
        DmaJob job = DmaJob.streaming(iova, s.size(), access, -1, s.privileged(), payload);
        start(s, -1, job, outcome -> {
            api.dmaUnmapSingle(dev, iova, s.size(), dir);
            StepContext.freePages(frames, buf, pages);
            ctx.trace("dma_unmap_single", String.format("%s: IOVA %#x+%#x", s.device(), iova, s.size()));
        });
    }

    /** Step {@code page-request}: {@code pages} raw requests of consecutive pages, {@code last} on the final one. */
    @Override
    public void pageRequest(PageRequest s) {
        int pasid = ctx.pasidOf(s.pasid(), s.process());
        if (s.pages() == 1) {
            pageRequest(s.device(), s.grpid(), s.addr(), s.access(), s.last(), pasid, s.privileged());
            return;
        }
        PcieEndpoint ep = machine.endpoint(s.device());
        boolean read = "read".equals(s.access()) || "exec".equals(s.access());
        long first = s.addr() & ~0xfffL;
        ctx.trace("page-request", String.format("%s raw page requests grpid %d: %d pages from %#x%s", s.device(),
                s.grpid(), s.pages(), first, s.last() ? ", LPIG on the last" : ""));
        for (int i = 0; i < s.pages(); i++) {
            boolean last = s.last() && i == s.pages() - 1;
            if (last) {
                ctx.observations.rawLpigSent(s.device(), s.grpid());
            }
            ep.sendPageRequest(new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0),
                    "exec".equals(s.access()), s.privileged(), read, "write".equals(s.access()), last, s.grpid(),
                    first + i * 4096L), null);
        }
    }

    /** Step {@code stop-marker}: a raw Stop Marker of the PASID (a page request with L set, no R, W or grpid). */
    @Override
    public void stopMarker(StopMarker s) {
        pageRequest(s.device(), 0, 0, null, true, ctx.pasidOf(s.pasid(), s.process()), false);
    }

    private void pageRequest(String device, int grpid, long addr, String access, boolean last, int pasid,
                             boolean privileged) {
        PcieEndpoint ep = machine.endpoint(device);
        boolean read = "read".equals(access) || "exec".equals(access);
        boolean write = "write".equals(access);
        boolean exec = "exec".equals(access);
        PageRequestMessage m = new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0), exec, privileged,
                read, write, last, grpid, addr & ~0xfffL);
        ctx.trace("page-request", device + " raw " + (m.isStopMarker() ? "stop marker" : "page request grpid "
                + grpid));
        if (last && !m.isStopMarker()) {
            ctx.observations.rawLpigSent(device, grpid);
        }
        ep.sendPageRequest(m, null);
    }

    /** Step {@code flr}: pci_reset_function(), Function Level Reset with ATS, PASID and PRI restored after it. */
    @Override
    public void flr(Flr s) {
        PciReset.resetFunction(machine.endpoint(s.device()));
        ctx.trace("pci_reset_function", s.device() + ": FLR, ATS/PASID/PRI restored");
    }
}
