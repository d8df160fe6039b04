package dev.iommulab.core;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.pgtable.IoPgtable;
import dev.iommulab.core.pgtable.IoPgtableFormat;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A driver that records the calls the core makes and keeps, as its "hardware", what it programmed at each
 * RID and PASID; it is also the domain ops of every domain it allocates. The {@code fail*} fields make the next
 * such call fail. It always has a static blocked domain (how the core takes a PASID down); with
 * {@link #withDomains} it also has a static identity domain and paging domains on {@code frames}.
 */
final class RecordingOps implements IommuOps, IommuDomainOps {

    /** One set_dev_pasid (op "set"), replace ("replace") or blocked-domain set_dev_pasid ("remove") call. */
    record PasidCall(String op, IommuDomain domain, Device dev, int pasid) {
    }

    /** One iotlb_sync: the gathered range and the number of freed tables at the time of the call. */
    record Sync(IommuDomain domain, long start, long end, long pgsize, int tables) {
    }

    final List<Device> probed = new ArrayList<>();
    final List<PasidCall> pasidCalls = new ArrayList<>();
    final List<IommuDomain> ridAttaches = new ArrayList<>();
    final List<Sync> syncs = new ArrayList<>();
    /** What the "hardware" translates each device's RID with. */
    final Map<Device, IommuDomain> ridProgrammed = new HashMap<>();
    /** What the "hardware" translates each PASID with (device RID << 20 | PASID). */
    final Map<Long, IommuDomain> pasidProgrammed = new HashMap<>();
    KernelException failSetDevPasid;
    KernelException failAttachDev;
    KernelException failAlloc;
    final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, this, null);
    IommuDomain identity;
    FrameAllocator frames;
    IoPgtableFormat format = IoPgtableFormat.VTD_FIRST_STAGE;

    /** Gives the driver an identity domain and paging domains whose tables come from {@code f}. */
    RecordingOps withDomains(FrameAllocator f) {
        this.frames = f;
        this.identity = new IommuDomain(DomainType.IDENTITY, this, this, null);
        return this;
    }

    @Override
    public String name() {
        return "REC";
    }

    @Override
    public void probeDevice(Device dev, PcieEndpoint pci) {
        probed.add(dev);
    }

    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        return new IommuDomain(DomainType.SVA, this, this, mm);
    }

    @Override
    public IommuDomain blockedDomain() {
        return blocked;
    }

    @Override
    public IommuDomain identityDomain() {
        return identity;
    }

    @Override
    public IommuDomain domainAllocPaging(Device dev, int flags) {
        KernelException e = failAlloc;
        failAlloc = null;
        if (e != null) {
            throw e;
        }
        if (frames == null) {
            throw new KernelException(Errno.EOPNOTSUPP, "dev", "no paging domains");
        }
        return IommuDomain.paging(this, this, IoPgtable.alloc(format, frames, false));
    }

    @Override
    public void attachDev(IommuDomain domain, Device dev) {
        KernelException e = failAttachDev;
        failAttachDev = null;
        if (e != null) {
            throw e;
        }
        ridAttaches.add(domain);
        ridProgrammed.put(dev, domain);
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        KernelException e = failSetDevPasid;
        failSetDevPasid = null;
        if (e != null) {
            throw e;
        }
        pasidCalls.add(new PasidCall("set", domain, dev, pasid));
        pasidProgrammed.put(key(dev, pasid), domain);
    }

    /** A domain in place of {@code old}; for the blocked domain, the core taking the PASID down ("remove"). */
    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        if (domain == blocked) {
            pasidCalls.add(new PasidCall("remove", old, dev, pasid));
            pasidProgrammed.remove(key(dev, pasid));
            return;
        }
        KernelException e = failSetDevPasid;
        failSetDevPasid = null;
        if (e != null) {
            throw e;
        }
        if (pasidProgrammed.get(key(dev, pasid)) != old) {
            throw new AssertionError("replace names " + old + " but " + pasidProgrammed.get(key(dev, pasid))
                    + " is programmed");
        }
        pasidCalls.add(new PasidCall("replace", domain, dev, pasid));
        pasidProgrammed.put(key(dev, pasid), domain);
    }

    @Override
    public void iotlbSync(IommuDomain domain, IotlbGather gather) {
        syncs.add(new Sync(domain, gather.start(), gather.end(), gather.pgsize(), gather.freelist().size()));
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        throw new AssertionError("the core itself never answers page requests");
    }

    static long key(Device dev, int pasid) {
        return (long) dev.rid() << 20 | pasid;
    }
}
