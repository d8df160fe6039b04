package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFunction;
import dev.iommulab.hw.iommu.PrgResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * A PCIe function that records what the IOMMU sends it and, unless told to stay silent, answers every
 * ATS Invalidate Request with an Invalidate Completion at once.
 */
final class RecordingFunction implements PcieFunction {

    private final int rid;
    private final IommuHardware iommu;
    final List<PrgResponse> responses = new ArrayList<>();
    final List<AtsInvalidateRequest> invalidations = new ArrayList<>();
    boolean answersInvalidations = true;

    RecordingFunction(int rid, IommuHardware iommu) {
        this.rid = rid;
        this.iommu = iommu;
    }

    @Override
    public int rid() {
        return rid;
    }

    @Override
    public void prgResponse(PrgResponse response) {
        responses.add(response);
    }

    @Override
    public void atsInvalidate(AtsInvalidateRequest request) {
        invalidations.add(request);
        if (answersInvalidations) {
            iommu.atsInvalidateCompletion(rid, 1 << request.itag());
        }
    }
}
