package dev.iommulab.bench;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfQueue;

/**
 * io-pgfault alone for the iopf benchmarks: a core, one iopf queue, a driver whose page_response does
 * nothing but count, no FaultEvents listener and no trace sink. Devices get SVA domains whose handler
 * either answers inline ({@link #inlineHandler}) or queues the answer on the workqueue ({@link #queuedHandler},
 * as iommu_sva_iopf_handler does).
 */
final class IopfBenchMachine {

    /** A driver whose page_response only counts; it is also the (empty) domain ops of its domains. */
    static final class NoOpOps implements IommuOps, IommuDomainOps {
        private final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, this, null);
        long responses;

        @Override
        public String name() {
            return "NOOP";
        }

        @Override
        public void probeDevice(Device dev, PcieEndpoint pci) {
        }

        @Override
        public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
            return new IommuDomain(DomainType.SVA, this, this, mm);
        }

        @Override
        public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        }

        @Override
        public IommuDomain blockedDomain() {
            return blocked;
        }

        @Override
        public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
            if (domain != blocked) {
                IommuDomainOps.super.setDevPasid(domain, dev, pasid, old);
            }
        }

        @Override
        public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
            responses++;
        }
    }

    final EventLoop loop = new EventLoop(0x10_4fL);
    final IommuCore core = new IommuCore();
    final NoOpOps ops = new NoOpOps();
    final Iopf iopf;
    final IopfQueue queue;
    private final FrameAllocator frames;

    IopfBenchMachine() {
        FailureInjector failures = new FailureInjector();
        iopf = new Iopf(core, loop, TimingModel.ESTIMATES, new FaultEvents(), failures, new KernelLog(loop));
        queue = iopf.queueAlloc("bench0");
        frames = new FrameAllocator(new PhysicalMemory(4L << 20), 1L << 20, failures);
    }

    /** Probes an ATS/PRI function with 256 PASIDs at {@code rid} and adds it to the queue. */
    Device device(String name, int rid) {
        EndpointConfig config = new EndpointConfig(name, rid, DeviceProfile.ACCELERATOR, true, true, 8, 32, 16, 4);
        Device dev = core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
        iopf.queueAddDevice(queue, dev);
        return dev;
    }

    /** Attaches an SVA domain at {@code pasid} of {@code dev} with {@code handler}. */
    void attach(Device dev, int pasid, IopfHandler handler) {
        IommuDomain domain = new IommuDomain(DomainType.SVA, ops, ops, new MmStruct("bench", frames, frames.allocate()));
        domain.setIopfHandler(handler);
        core.attachDevicePasid(domain, dev, pasid, new AttachHandle(domain));
    }

    /** Answers SUCCESS and frees the group inside the handler. */
    IopfHandler inlineHandler() {
        return group -> {
            iopf.groupResponse(group, PageResponseCode.SUCCESS);
            iopf.freeGroup(group);
            return 0;
        };
    }

    /** Queues the group's work; the work answers SUCCESS and frees it (the SVA shape). */
    IopfHandler queuedHandler() {
        return group -> {
            group.queueWork("bench_handle_iopf", () -> {
                iopf.groupResponse(group, PageResponseCode.SUCCESS);
                iopf.freeGroup(group);
            });
            return 0;
        };
    }

    static IommuFault lpig(int pasid, int grpid) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_PASID_VALID | IommuFault.PAGE_REQUEST_LAST_PAGE, pasid,
                grpid, IommuFault.PERM_READ, 0x4000_0000L);
    }

    static IommuFault partial(int pasid, int grpid, long addr) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_PASID_VALID, pasid, grpid, IommuFault.PERM_READ, addr);
    }
}
