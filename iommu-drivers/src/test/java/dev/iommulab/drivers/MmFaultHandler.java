package dev.iommulab.drivers;

import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.fixtures.SvaFaultResolution;
import dev.iommulab.iopf.Iopf;

/**
 * A test stand-in for the SVA fault handler (the sva module's, which the drivers module cannot depend on): on the iopf
 * workqueue it resolves the group as iommu_sva_handle_iopf() does ({@link SvaFaultResolution}) and answers it once.
 */
public final class MmFaultHandler {

    private final Iopf iopf;

    public MmFaultHandler(Iopf iopf) {
        this.iopf = iopf;
    }

    /** The domain's {@code iopf_handler}. */
    public int handle(IopfGroup group) {
        group.queueWork("test-sva-handler", () -> {
            iopf.groupResponse(group, SvaFaultResolution.resolve(group));
            iopf.freeGroup(group);
        });
        return 0;
    }
}
