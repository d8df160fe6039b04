package dev.iommulab.testkit.hw;

/**
 * The RISC-V IOMMU model (dev.iommulab.hw.riscv) passes the hardware contract with every capability: PASID,
 * ATS, page requests, the fault queue and the IOTLB.
 */
class RiscvModelContractTest extends IommuModelContract {

    @Override
    protected ModelHarness createHarness() {
        return new RiscvHarness();
    }
}
