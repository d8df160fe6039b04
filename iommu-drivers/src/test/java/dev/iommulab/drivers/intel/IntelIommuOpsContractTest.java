package dev.iommulab.drivers.intel;

import dev.iommulab.fixtures.drivers.DriverHarness;
import dev.iommulab.fixtures.drivers.IommuOpsContract;

/** The VT-d driver ({@link IntelIommu}) passes the driver contract. */
class IntelIommuOpsContractTest extends IommuOpsContract {

    @Override
    protected DriverHarness createHarness() {
        return new IntelDriverHarness();
    }
}
