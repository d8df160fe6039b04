package dev.iommulab.testkit.hw.example;

import dev.iommulab.testkit.hw.IommuModelContract;
import dev.iommulab.testkit.hw.ModelHarness;

/** The example third-party model passes the same contract as the built-in models. */
class FlatIommuContractTest extends IommuModelContract {

    @Override
    protected ModelHarness createHarness() {
        return new FlatIommuHarness();
    }
}
