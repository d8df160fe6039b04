package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.PcieFunction;
import dev.iommulab.hw.iommu.PrgResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * A PCIe function that records the PRG responses the fabric delivers to it and, optionally, passes
 * them on to a real function model behind it.
 */
final class RecordingFunction implements PcieFunction {

    private final int rid;
    private PcieFunction next;
    final List<PrgResponse> responses = new ArrayList<>();
    final List<AtsInvalidateRequest> invalidations = new ArrayList<>();

    RecordingFunction(int rid) {
        this.rid = rid;
    }

    /** Delivers every recorded response to {@code function} as well. */
    void forwardTo(PcieFunction function) {
        next = function;
    }

    @Override
    public int rid() {
        return rid;
    }

    @Override
    public void prgResponse(PrgResponse response) {
        responses.add(response);
        if (next != null) {
            next.prgResponse(response);
        }
    }

    @Override
    public void atsInvalidate(AtsInvalidateRequest request) {
        invalidations.add(request);
        if (next != null) {
            next.atsInvalidate(request);
        }
    }
}
