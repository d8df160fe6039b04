package dev.iommulab.core;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.ArrayList;
import java.util.List;

/** A driver that records the calls the core makes; {@link #failSetDevPasid} makes the next attach fail. */
final class RecordingOps implements IommuOps {

    /** One set_dev_pasid (op "set") or blocked-domain set_dev_pasid (op "remove") call. */
    record PasidCall(String op, IommuDomain domain, Device dev, int pasid) {
    }

    final List<Device> probed = new ArrayList<>();
    final List<PasidCall> pasidCalls = new ArrayList<>();
    KernelException failSetDevPasid;

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
        return new IommuDomain(DomainType.SVA, this, mm);
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        if (failSetDevPasid != null) {
            KernelException e = failSetDevPasid;
            failSetDevPasid = null;
            throw e;
        }
        pasidCalls.add(new PasidCall("set", domain, dev, pasid));
    }

    @Override
    public void removeDevPasid(Device dev, int pasid, IommuDomain domain) {
        pasidCalls.add(new PasidCall("remove", domain, dev, pasid));
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        throw new AssertionError("the core itself never answers page requests");
    }
}
