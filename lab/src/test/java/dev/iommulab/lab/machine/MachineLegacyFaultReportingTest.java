package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.fault.IommuFaultHandlers;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.kernel.KernelLog;
import org.junit.jupiter.api.Test;

/**
 * A machine has one {@link LegacyFaultReporting} (iommu_set_fault_handler()/report_iommu_fault() of
 * drivers/iommu/iommu.c) writing to the machine's kernel log, so a test can install a ready-made handler on a
 * domain and report a fault the way arm-smmu or AMD would.
 */
class MachineLegacyFaultReportingTest {

    @Test
    void legacyFaultReporting_oneInstanceOnTheMachineLog() throws Exception {
        Machine m = Machine.builder().build();
        LegacyFaultReporting reporting = m.legacyFaultReporting();
        IommuDomain domain = new IommuDomain(DomainType.UNMANAGED, m.ops(), new IommuDomainOps() { }, null);

        reporting.setFaultHandler(domain, IommuFaultHandlers.print(m.log()), null);
        int ret = m.legacyFaultReporting().reportIommuFault(domain, null, 0x1000,
                LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(m.legacyFaultReporting()).isSameAs(reporting);
        assertThat(ret).isZero();
        assertThat(m.log().lines()).extracting(KernelLog.Line::text)
                .contains("(NULL device *): Unhandled context fault: iova=0x00001000, flags=0x0");
    }
}
