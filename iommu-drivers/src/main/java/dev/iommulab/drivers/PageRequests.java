package dev.iommulab.drivers;

import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.hw.iommu.PageRequestMessage;

/** What every driver's page-request thread reports to io-pgfault for a request it read from its queue. */
public final class PageRequests {

    private PageRequests() {
    }

    /**
     * Counterpart of intel_prq_report() (formerly intel_svm_prq_report()), whose conventions every driver of this
     * lab follows: {@code LAST_PAGE} for the last request of its group; {@code PASID_VALID} and
     * {@code NEEDS_PASID} with the PASID when the request carries one; perm READ/WRITE/EXEC/PRIV from the
     * request's R, W, Execute and Privileged bits; grpid the PRG index; the page address.
     */
    public static IommuFault toFault(PageRequestMessage req) {
        int flags = (req.last() ? IommuFault.PAGE_REQUEST_LAST_PAGE : 0)
                | (req.pasidPresent() ? IommuFault.PAGE_REQUEST_PASID_VALID | IommuFault.PAGE_RESPONSE_NEEDS_PASID : 0);
        int perm = (req.read() ? IommuFault.PERM_READ : 0) | (req.write() ? IommuFault.PERM_WRITE : 0)
                | (req.exe() ? IommuFault.PERM_EXEC : 0) | (req.priv() ? IommuFault.PERM_PRIV : 0);
        return IommuFault.pageRequest(flags, req.pasid(), req.prgi(), perm, req.pageAddr());
    }
}
