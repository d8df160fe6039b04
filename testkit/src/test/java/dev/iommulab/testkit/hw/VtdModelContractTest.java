package dev.iommulab.testkit.hw;

/** The VT-d model in scalable mode passes the hardware contract. */
class VtdModelContractTest extends IommuModelContract {

    @Override
    protected ModelHarness createHarness() {
        return new VtdHarness();
    }
}
