package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.dma.DmaDirection;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.PciReset;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import dev.iommulab.lab.scenario.Attach;
import dev.iommulab.lab.scenario.Dma;
import dev.iommulab.lab.scenario.ExitProcess;
import dev.iommulab.lab.scenario.FailAllocations;
import dev.iommulab.lab.scenario.Flr;
import dev.iommulab.lab.scenario.MapStep;
import dev.iommulab.lab.scenario.Mmap;
import dev.iommulab.lab.scenario.Mprotect;
import dev.iommulab.lab.scenario.Munmap;
import dev.iommulab.lab.scenario.PageRequest;
import dev.iommulab.lab.scenario.PasidStop;
import dev.iommulab.lab.scenario.RemoveDevice;
import dev.iommulab.lab.scenario.Run;
import dev.iommulab.lab.scenario.Step;
import dev.iommulab.lab.scenario.StopMarker;
import dev.iommulab.lab.scenario.SvaBind;
import dev.iommulab.lab.scenario.SvaUnbind;
import dev.iommulab.lab.scenario.UnmapStep;
import dev.iommulab.sva.SvaHandle;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/** Performs scenario steps on a machine. */
final class StepExecutor {

    /** Step kinds this version of the lab can perform. */
    static final Set<String> SUPPORTED = supported();

    private final Machine machine;
    private final EventLoop loop;
    private final Observations observations;
    private final Map<String, SvaHandle> bindings = new HashMap<>();
    private final VfioSteps vfio;

    StepExecutor(Machine machine, Observations observations) {
        this.machine = machine;
        this.loop = machine.loop();
        this.observations = observations;
        this.vfio = new VfioSteps(machine);
    }

    private static Set<String> supported() {
        Set<String> kinds = new HashSet<>(Set.of("sva-bind", "sva-unbind", "attach", "map", "unmap", "dma",
                "page-request", "stop-marker", "pasid-stop", "fail-allocations", "remove-device", "flr",
                "exit-process", "mmap", "munmap", "mprotect", "run"));
        kinds.addAll(VfioSteps.KINDS);
        return Set.copyOf(kinds);
    }

    /** Performs {@code step}; a failing kernel call throws {@link KernelException}. */
    void execute(Step step) {
        if (vfio.execute(step)) {
            return;
        }
        if (step instanceof SvaBind s) {
            SvaHandle h = machine.sva().bindDevice(machine.device(s.device()), machine.process(s.process()));
            bindings.put(s.device() + "/" + s.process(), h);
        } else if (step instanceof SvaUnbind s) {
            SvaHandle h = bindings.get(s.device() + "/" + s.process());
            if (h == null || h.users() == 0) {
                throw new KernelException(Errno.EINVAL, "process", s.device() + " is not bound to " + s.process());
            }
            machine.sva().unbindDevice(h);
        } else if (step instanceof Attach s) {
            attach(machine.device(s.device()), s.domain());
        } else if (step instanceof MapStep s) {
            map(s);
        } else if (step instanceof UnmapStep s) {
            long unmapped = IommuMap.unmap(ridDomain(s.device()), s.iova(), s.size());
            loop.trace().step(loop.now(), Layer.LAB, "unmap", String.format("%s: iommu_unmap %#x+%#x -> %#x bytes",
                    s.device(), s.iova(), s.size(), unmapped));
        } else if (step instanceof Dma s) {
            dma(s);
        } else if (step instanceof PageRequest s) {
            pageRequests(s, pasidOf(s.pasid(), s.process()));
        } else if (step instanceof StopMarker s) {
            pageRequest(s.device(), 0, 0, null, true, pasidOf(s.pasid(), s.process()), false);
        } else if (step instanceof PasidStop s) {
            pasidStop(s);
        } else if (step instanceof RemoveDevice s) {
            Device dev = machine.device(s.device());
            machine.iopf().queueRemoveDevice(machine.iopf().queueOf(dev), dev);
        } else if (step instanceof Flr s) {
            PciReset.resetFunction(machine.endpoint(s.device()));
            loop.trace().step(loop.now(), Layer.LAB, "pci_reset_function", s.device() + ": FLR, ATS/PASID/PRI restored");
        } else if (step instanceof ExitProcess s) {
            exitProcess(s.process());
        } else if (step instanceof Mmap s) {
            mmap(s);
        } else if (step instanceof Munmap s) {
            machine.process(s.process()).munmap(s.start(), s.size());
            loop.trace().step(loop.now(), Layer.LAB, "munmap", String.format("%s: munmap %#x+%#x", s.process(),
                    s.start(), s.size()));
        } else if (step instanceof Mprotect s) {
            machine.process(s.process()).mprotect(s.start(), s.size(), Vma.flagsOf(s.prot()));
            loop.trace().step(loop.now(), Layer.LAB, "mprotect", String.format("%s: mprotect %#x+%#x %s",
                    s.process(), s.start(), s.size(), s.prot()));
        } else if (step instanceof FailAllocations s) {
            machine.failures().failNext(s.site(), s.count());
        } else if (step instanceof Run s) {
            if (s.forNs() == null) {
                loop.runUntilIdle();
            } else {
                loop.runFor(s.forNs());
            }
        } else {
            throw new IllegalStateException("step " + step.kind() + " is not supported yet");
        }
    }

    /**
     * Step {@code pasid-stop}: the device driver stops the device's use of a PASID before it unbinds (the caller
     * guarantee of iommu_sva_unbind_device(), reference/linux-fault-stack.md §4.2; PCIe PASID stop with a Stop
     * Marker): {@link PcieEndpoint#stopPasid} aborts the PASID's work items once their non-posted requests retired,
     * drops its unsent page request groups, finishes an open group with its LPIG and sends a Stop Marker behind
     * them. The step only starts it; the next step runs when the machine is idle. A device without an enabled PASID
     * capability, or a PASID beyond its width, is a step error (EINVAL) that stops nothing.
     */
    private void pasidStop(PasidStop s) {
        PcieEndpoint ep = machine.endpoint(s.device());
        int pasid = pasidOf(s.pasid(), s.process());
        if (!ep.pasidEnabled()) {
            throw new KernelException(Errno.EINVAL, "device", s.device() + " has no PASID enabled");
        }
        if (pasid >= ep.config().maxPasids()) {
            throw new KernelException(Errno.EINVAL, "pasid", String.format("PASID %d is beyond %s's %d-bit PASIDs",
                    pasid, s.device(), ep.config().pasidBits()));
        }
        loop.trace().step(loop.now(), Layer.LAB, "pasid-stop", s.device() + ": device driver stops PASID " + pasid);
        ep.stopPasid(pasid, () -> loop.trace().step(loop.now(), Layer.LAB, "pasid-stop",
                s.device() + ": PASID " + pasid + " stopped, Stop Marker sent"));
    }

    /**
     * Step {@code mmap}: a new VMA in the process (mmap() with MAP_FIXED_NOREPLACE; EEXIST when it overlaps one),
     * anonymous or backed by nothing.
     */
    private void mmap(Mmap s) {
        machine.process(s.process()).mmap(s.start(), s.size(), Vma.flagsOf(s.prot()), Vma.Backing.of(s.backing()));
        loop.trace().step(loop.now(), Layer.LAB, "mmap", String.format("%s: mmap %#x+%#x %s %s", s.process(),
                s.start(), s.size(), s.prot(), s.backing()));
    }

    /**
     * Step {@code exit-process}: the process drops its own reference to its mm (do_exit() → exit_mm() → mmput());
     * SVA bindings hold no mm user (iommu_sva_bind_device() only grabs the mm), so this is the last mmput and
     * exit_mmap() runs: every mmu notifier's release (on VT-d intel_mm_release(): the PASID entries go to
     * not-present with FPD, no drain), then the VMAs go. A later fault for the mm finds no user and is answered
     * INVALID; the device driver's later sva-unbind clears the entries and drains.
     */
    private void exitProcess(String name) {
        MmStruct mm = machine.process(name);
        if (mm.users() == 0) {
            throw new KernelException(Errno.ESRCH, "process", name + " has already exited");
        }
        mm.mmput();
        loop.trace().step(loop.now(), Layer.LAB, "exit_mm", name + " exits: mm torn down");
    }

    /**
     * Step {@code attach}: the device's RID gets a new DMA domain, the identity domain or the blocking domain.
     * From the group's core-owned (blocking) domain this is iommu_attach_device(); from a domain an earlier step
     * attached, iommu_group_replace_domain() (no blocked window in between); {@code blocked} then is
     * iommu_detach_device(), which returns the lab-owned group to its blocking domain.
     */
    private void attach(Device dev, String kind) {
        IommuCore core = machine.get(IommuCore.class);
        IommuDomain current = core.getDomainForDev(dev);
        boolean coreOwned = current == null || current == dev.group().blockingDomain()
                || current == dev.group().defaultDomain();
        IommuDomain domain = switch (kind) {
            case "dma" -> core.domainAllocPaging(dev, machine.get(IommuDma.class).dmaDomainType(), 0);
            case "identity" -> dev.ops().identityDomain();
            default -> null;
        };
        if (domain == null && "identity".equals(kind)) {
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
        if (domain != null && domain.type() != DomainType.IDENTITY) {
            machine.get(IommuDma.class).initDomain(domain, dev);
        }
        loop.trace().step(loop.now(), Layer.LAB, "attach", dev.name() + " RID -> " + core.getDomainForDev(dev));
    }

    /**
     * Step {@code map}: fresh zeroed, physically contiguous pages (from the page allocator, so site {@code frame}
     * applies) mapped at {@code iova} in the device's RID domain with iommu_map().
     */
    private void map(MapStep s) {
        IommuDomain domain = ridDomain(s.device());
        long pages = (s.size() + 4095) / 4096;
        FrameAllocator frames = machine.get(FrameAllocator.class);
        long pa = frames.allocateContiguous((int) pages);
        try {
            IommuMap.map(domain, s.iova(), pa, pages * 4096, IommuProt.fromLetters(s.prot()));
        } catch (KernelException e) {
            freePages(frames, pa, (int) pages);
            throw e;
        }
        loop.trace().step(loop.now(), Layer.LAB, "map", String.format("%s: iommu_map %#x+%#x -> %#x (%s)", s.device(),
                s.iova(), pages * 4096, pa, s.prot()));
    }

    private IommuDomain ridDomain(String device) {
        Device dev = machine.device(device);
        IommuDomain domain = machine.get(IommuCore.class).getDomainForDev(dev);
        if (domain == null) {
            throw new KernelException(Errno.ENODEV, "device", device + " has no domain at its RID");
        }
        return domain;
    }

    private int pasidOf(Integer pasid, String process) {
        if (pasid != null) {
            return pasid;
        }
        if (process == null) {
            return -1;
        }
        int p = machine.sva().mmPasid(machine.process(process));
        if (p < 0) {
            throw new KernelException(Errno.EINVAL, "process", process + " has no PASID");
        }
        return p;
    }

    /**
     * Step {@code dma}: with {@code process} at that process's SVA PASID, with {@code pasid} at a raw PASID (one
     * attached through iommufd), else without PASID. A write that completes is compared with the memory it was meant
     * for: the process's own for SVA; for a device bound to a process's iommufd, the process memory behind the IOVA
     * ({@code ioas-map}).
     */
    private void dma(Dma s) {
        int pasid = pasidOf(s.pasid(), s.process());
        Access access = Access.valueOf(s.access().toUpperCase(Locale.ROOT));
        byte[] data = null;
        if (access == Access.WRITE) {
            data = new byte[(int) s.size()];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) loop.random().nextInt(256);
            }
        }
        if (s.viaDmaApi()) {
            dmaApi(s, access, data);
            return;
        }
        DmaJob job = new DmaJob(s.addr(), (int) s.size(), access, pasid, s.privileged(), data);
        start(s, pasid, job, outcome -> { });
    }

    private void start(Dma s, int pasid, DmaJob job, Consumer<DmaOutcome> done) {
        Observations.DmaItem item = new Observations.DmaItem(s.device(), pasid >= 0 ? pasid : null, s.process(), job,
                observations.step);
        observations.dma.add(item);
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
    private void dmaApi(Dma s, Access access, byte[] data) {
        Device dev = machine.device(s.device());
        IommuDma api = machine.get(IommuDma.class);
        DmaDirection dir = access == Access.WRITE ? DmaDirection.DMA_FROM_DEVICE : DmaDirection.DMA_TO_DEVICE;
        FrameAllocator frames = machine.get(FrameAllocator.class);
        int pages = (int) ((s.size() + 4095) / 4096);
        long buf = frames.allocateContiguous(pages);
        long iova;
        try {
            iova = api.dmaMapSingle(dev, buf, s.size(), dir);
        } catch (KernelException e) {
            freePages(frames, buf, pages);
            throw e;
        }
        loop.trace().step(loop.now(), Layer.LAB, "dma_map_single", String.format("%s: %#x+%#x %s -> IOVA %#x",
                s.device(), buf, s.size(), dir, iova));
        DmaJob job = new DmaJob(iova, (int) s.size(), access, -1, s.privileged(), data);
        start(s, -1, job, outcome -> {
            api.dmaUnmapSingle(dev, iova, s.size(), dir);
            freePages(frames, buf, pages);
            loop.trace().step(loop.now(), Layer.LAB, "dma_unmap_single", String.format("%s: IOVA %#x+%#x",
                    s.device(), iova, s.size()));
        });
    }

    private static void freePages(FrameAllocator frames, long first, int pages) {
        for (int i = 0; i < pages; i++) {
            frames.free(first + i * 4096L);
        }
    }

    private void pageRequest(String device, int grpid, long addr, String access, boolean last, int pasid,
                             boolean privileged) {
        PcieEndpoint ep = machine.endpoint(device);
        boolean read = "read".equals(access) || "exec".equals(access);
        boolean write = "write".equals(access);
        boolean exec = "exec".equals(access);
        PageRequestMessage m = new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0), exec, privileged,
                read, write, last, grpid, addr & ~0xfffL);
        loop.trace().step(loop.now(), Layer.LAB, "page-request", device + " raw " + (m.isStopMarker()
                ? "stop marker" : "page request grpid " + grpid));
        if (last && !m.isStopMarker()) {
            observations.rawLpigSent(device, grpid);
        }
        ep.sendPageRequest(m, null);
    }

    /** Step {@code page-request}: {@code pages} raw requests of consecutive pages, {@code last} on the final one. */
    private void pageRequests(PageRequest s, int pasid) {
        if (s.pages() == 1) {
            pageRequest(s.device(), s.grpid(), s.addr(), s.access(), s.last(), pasid, s.privileged());
            return;
        }
        PcieEndpoint ep = machine.endpoint(s.device());
        boolean read = "read".equals(s.access()) || "exec".equals(s.access());
        long first = s.addr() & ~0xfffL;
        loop.trace().step(loop.now(), Layer.LAB, "page-request", String.format("%s raw page requests grpid %d: %d"
                + " pages from %#x%s", s.device(), s.grpid(), s.pages(), first, s.last() ? ", LPIG on the last" : ""));
        for (int i = 0; i < s.pages(); i++) {
            boolean last = s.last() && i == s.pages() - 1;
            if (last) {
                observations.rawLpigSent(s.device(), s.grpid());
            }
            ep.sendPageRequest(new PageRequestMessage(ep.rid(), pasid >= 0, Math.max(pasid, 0),
                    "exec".equals(s.access()), s.privileged(), read, "write".equals(s.access()), last, s.grpid(),
                    first + i * 4096L), null);
        }
    }

    /** Steps of {@code steps} this lab cannot perform yet. */
    static List<Step> unsupported(List<Step> steps) {
        return unsupported(steps, SUPPORTED);
    }

    /** Steps of {@code steps} whose kind is not in {@code supported}. */
    static List<Step> unsupported(List<Step> steps, Set<String> supported) {
        return steps.stream().filter(s -> !supported.contains(s.kind())).toList();
    }
}
