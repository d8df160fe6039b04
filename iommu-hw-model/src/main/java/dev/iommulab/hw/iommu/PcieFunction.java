package dev.iommulab.hw.iommu;

/** What the IOMMU sees downstream: a PCIe function that can receive PRG responses. */
public interface PcieFunction {

    int rid();

    /** A PRG Response Message arrives at the function. Called from a simulation event. */
    void prgResponse(PrgResponse response);

    /**
     * An ATS Invalidate Request arrives: the function drops the covered ATC entries and, unless it is
     * broken, answers with an Invalidate Completion through {@link IommuHardware#atsInvalidateCompletion}.
     */
    void atsInvalidate(AtsInvalidateRequest request);
}
