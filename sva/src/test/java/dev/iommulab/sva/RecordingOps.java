package dev.iommulab.sva;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.ArrayList;
import java.util.List;

/**
 * A driver that records what the core and SVA ask of it: SVA domains, PASID attach/detach, responses. It is also the
 * domain ops of its domains; detach is its static blocked domain's {@code set_dev_pasid}.
 */
final class RecordingOps implements IommuOps, IommuDomainOps {

    /** One {@code ops->page_response(dev, evt, msg)} call. */
    record Response(Device dev, IommuFault evt, PageResponse msg) {
    }

    /** One {@code set_dev_pasid} (attach) or blocked-domain {@code set_dev_pasid} (detach) call. */
    record PasidCall(String op, IommuDomain domain, Device dev, int pasid) {
    }

    final List<Response> responses = new ArrayList<>();
    final List<IommuDomain> allocatedSvaDomains = new ArrayList<>();
    final List<PasidCall> pasidCalls = new ArrayList<>();
    final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, this, null);
    /** False: the driver has no {@code domain_alloc_sva}. */
    boolean svaSupported = true;

    @Override
    public String name() {
        return "REC";
    }

    @Override
    public void probeDevice(Device dev, PcieEndpoint pci) {
    }

    @Override
    public IommuDomain domainAllocSva(Device dev, MmStruct mm) {
        if (!svaSupported) {
            return IommuOps.super.domainAllocSva(dev, mm);
        }
        IommuDomain domain = new IommuDomain(DomainType.SVA, this, this, mm);
        allocatedSvaDomains.add(domain);
        return domain;
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid) {
        pasidCalls.add(new PasidCall("set", domain, dev, pasid));
    }

    @Override
    public IommuDomain blockedDomain() {
        return blocked;
    }

    @Override
    public void setDevPasid(IommuDomain domain, Device dev, int pasid, IommuDomain old) {
        if (domain != blocked) {
            IommuDomainOps.super.setDevPasid(domain, dev, pasid, old);
            return;
        }
        pasidCalls.add(new PasidCall("remove", old, dev, pasid));
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse msg) {
        responses.add(new Response(dev, evt, msg));
    }

    List<PageResponse> messages() {
        return responses.stream().map(Response::msg).toList();
    }
}
