package dev.iommulab.vfio;

import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.iopf.IoPgfault;

/** The fault object's way to answer and free groups: io-pgfault's iopf_group_response() and iopf_free_group(). */
record IopfResponder(IoPgfault iopf) implements IommufdFault.Responder {
    @Override
    public void respond(IopfGroup group, PageResponseCode code, ResponseOrigin origin) {
        iopf.groupResponse(group, code, origin);
    }

    @Override
    public void free(IopfGroup group) {
        iopf.freeGroup(group);
    }

    @Override
    public boolean owed(IopfGroup group) {
        return iopf.groupOwed(group);
    }
}
