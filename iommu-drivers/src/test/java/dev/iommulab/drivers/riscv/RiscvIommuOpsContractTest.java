package dev.iommulab.drivers.riscv;

import dev.iommulab.fixtures.drivers.DriverHarness;
import dev.iommulab.fixtures.drivers.IommuOpsContract;

/** The lab's RISC-V IOMMU driver ({@link RiscvIommuDriver}) passes the driver contract. */
class RiscvIommuOpsContractTest extends IommuOpsContract {

    @Override
    protected DriverHarness createHarness() {
        return new RiscvDriverHarness();
    }
}
