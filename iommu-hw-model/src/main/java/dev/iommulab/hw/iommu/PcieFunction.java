package dev.iommulab.hw.iommu;

/** What the IOMMU sees downstream: a PCIe function that can receive PRG responses. */
public interface PcieFunction {

    int rid();

    /** A PRG Response Message arrives at the function. Called from a simulation event. */
    void prgResponse(PrgResponse response);
}
