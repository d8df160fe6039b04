package dev.iommulab.core.dma;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCap;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.IotlbGather;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A core with one device behind a driver that records its iotlb_sync and flush_iotlb_all calls (and claims
 * deferred flush and the x86 MSI window unless told otherwise), and the DMA API over it.
 */
final class DmaFixture implements IommuOps, IommuDomainOps {

    final EventLoop loop = new EventLoop(1);
    final PhysicalMemory memory = new PhysicalMemory(64L << 20);
    final FailureInjector failures = new FailureInjector();
    final FrameAllocator frames = new FrameAllocator(memory, 1L << 20, failures);
    final KernelLog log = new KernelLog(loop);
    final IommuCore core = new IommuCore();
    final List<String> flushes = new ArrayList<>();
    final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, this, null);
    boolean deferredFlush = true;
    final IommuDma dma;
    final Device dev;

    DmaFixture(DmaFlush flush) {
        dma = new IommuDma(core, loop, log, flush);
        dev = core.probeDevice(new PcieEndpoint(new EndpointConfig("nic0", 0x20, DeviceProfile.NIC, false, false, 0, 1,
                0, 4), loop, TimingModel.ESTIMATES), this);
    }

    /** Attaches a new DMA domain of {@code type} at the RID and sets the DMA API up for it. */
    IommuDomain attach(DomainType type) {
        IommuDomain d = core.domainAllocPaging(dev, type, 0);
        core.attachDevice(d, dev);
        dma.initDomain(d, dev);
        return d;
    }

    @Override
    public String name() {
        return "FAKE";
    }

    @Override
    public void probeDevice(Device dev, PcieEndpoint pci) {
    }

    @Override
    public IommuDomain blockedDomain() {
        return blocked;
    }

    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        return IommuDomain.paging(this, this, IoPgtable.alloc(IoPgtableFormat.VTD_FIRST_STAGE, frames, false));
    }

    @Override
    public void iotlbSync(IommuDomain domain, IotlbGather gather) {
        flushes.add(String.format("sync %#x-%#x", gather.start(), gather.end()));
    }

    @Override
    public void flushIotlbAll(IommuDomain domain) {
        flushes.add("all");
    }

    @Override
    public boolean capable(Device dev, IommuCap cap) {
        return cap == IommuCap.DEFERRED_FLUSH && deferredFlush;
    }

    @Override
    public List<IommuResvRegion> getResvRegions(Device dev) {
        return List.of(new IommuResvRegion(0xfee0_0000L, 0x10_0000L, 0, IommuResvRegion.Type.MSI),
                new IommuResvRegion(0x8000_0000L, 0x1000, 0, IommuResvRegion.Type.SW_MSI));
    }

    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        throw new UnsupportedOperationException();
    }
}
