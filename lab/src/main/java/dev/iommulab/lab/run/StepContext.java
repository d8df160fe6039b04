package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.lab.machine.Machine;

/** What the step handlers of every area share: the machine, its loop, the run's observations and a few look-ups. */
final class StepContext {

    private static final int PAGE_SHIFT = 12;
    private static final long PAGE = 1L << PAGE_SHIFT;

    final Machine machine;
    final EventLoop loop;
    final Observations observations;
    /** What the journey's lab lines start with: {@code "vm0: "} inside a guest, nothing on the host. */
    private final String prefix;

    /** The context of the host's steps ({@code guest} null) or of guest {@code guest}'s. */
    StepContext(Machine machine, Observations observations, String guest) {
        this.machine = machine;
        this.loop = machine.loop();
        this.observations = observations;
        this.prefix = guest == null ? "" : guest + ": ";
    }

    /** A {@code LAB} line of the journey at the current time. */
    void trace(String symbol, String message) {
        loop.trace().step(loop.now(), Layer.LAB, symbol, prefix + message);
    }

    /** The domain at {@code device}'s RID. @throws KernelException ENODEV when it has none */
    IommuDomain ridDomain(String device) {
        Device dev = machine.knownDevice(device);
        IommuDomain domain = machine.core().getDomainForDev(dev);
        if (domain == null) {
            throw new KernelException(Errno.ENODEV, "device", device + " has no domain at its RID");
        }
        return domain;
    }

    /**
     * The PASID a step names: {@code pasid} when given, else the SVA PASID of {@code process}, else -1 (none).
     *
     * @throws KernelException EINVAL when {@code process} has no PASID
     */
    int pasidOf(Integer pasid, String process) {
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

    /** The 4 KiB pages {@code bytes} (> 0) take, rounded up; exact for any {@code long}. */
    static long pages(long bytes) {
        return (bytes >>> PAGE_SHIFT) + ((bytes & (PAGE - 1)) != 0 ? 1 : 0);
    }

    /**
     * {@code pages} physically contiguous fresh frames from the page allocator (site {@code frame}). A count beyond
     * the frames the machine's memory holds fails as the allocator fails when it runs out — ENOMEM, nothing
     * allocated — without asking it: the allocator counts pages in an {@code int}.
     *
     * @throws KernelException ENOMEM when the frames are not there (or a failure is injected)
     */
    static long allocateContiguous(FrameAllocator frames, long pages) {
        if (pages > frames.memory().size() >>> PAGE_SHIFT) {
            throw new KernelException(Errno.ENOMEM, "frame", "out of physical memory");
        }
        return frames.allocateContiguous(Math.toIntExact(pages));
    }

    /** Gives {@code pages} pages from {@code first} back to the page allocator. */
    static void freePages(FrameAllocator frames, long first, long pages) {
        for (long i = 0; i < pages; i++) {
            frames.free(first + i * PAGE);
        }
    }
}
