package dev.iommulab.iopf;

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
 * A driver that only records what the core asks of it, above all every {@code page_response}; it is also the
 * domain ops of its domains, and has a static blocked domain (how the core takes a PASID down).
 */
final class RecordingOps implements IommuOps, IommuDomainOps {

    /** One {@code ops->page_response(dev, evt, msg)} call. */
    record Response(Device dev, IommuFault evt, PageResponse msg) {
    }

    final List<Response> responses = new ArrayList<>();
    final IommuDomain blocked = new IommuDomain(DomainType.BLOCKED, this, this, null);
    boolean hasPageResponse = true;
    boolean userPasidTable;

    @Override
    public String name() {
        return "REC";
    }

    @Override
    public boolean userPasidTable() {
        return userPasidTable;
    }

    @Override
    public boolean hasPageResponse() {
        return hasPageResponse;
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
        responses.add(new Response(dev, evt, msg));
    }

    /** The messages sent, in order. */
    List<PageResponse> messages() {
        return responses.stream().map(Response::msg).toList();
    }
}
