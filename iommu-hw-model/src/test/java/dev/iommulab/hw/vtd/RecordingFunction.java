package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFunction;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.sim.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * A PCIe function that records the PRG responses and ATS Invalidate Requests the fabric delivers to it
 * and, optionally, passes them on to a real function model behind it. By default it never answers an
 * invalidation (a broken function); {@link #answerInvalidations} makes it send Invalidate Completions.
 */
final class RecordingFunction implements PcieFunction {

    private final int rid;
    private PcieFunction next;
    private IommuHardware upstream;
    private EventLoop loop;
    private long completionDelayNs;
    final List<PrgResponse> responses = new ArrayList<>();
    final List<AtsInvalidateRequest> invalidations = new ArrayList<>();

    RecordingFunction(int rid) {
        this.rid = rid;
    }

    /** Delivers every recorded response to {@code function} as well. */
    void forwardTo(PcieFunction function) {
        next = function;
    }

    /** Answers every ATS Invalidate Request with an Invalidate Completion {@code delayNs} later. */
    void answerInvalidations(IommuHardware iommu, EventLoop eventLoop, long delayNs) {
        upstream = iommu;
        loop = eventLoop;
        completionDelayNs = delayNs;
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
        } else if (upstream != null) {
            IommuHardware iommu = upstream;
            loop.schedule(completionDelayNs, "test-inval-completion",
                    () -> iommu.atsInvalidateCompletion(rid, 1 << request.itag()));
        }
    }
}
