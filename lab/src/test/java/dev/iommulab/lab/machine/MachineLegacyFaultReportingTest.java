package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.fault.IommuFaultHandlers;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A machine has one {@link LegacyFaultReporting} (iommu_set_fault_handler()/report_iommu_fault() of
 * drivers/iommu/iommu.c) writing to the machine's kernel log, so a test can install a ready-made handler on a
 * domain and report a fault the way arm-smmu or AMD would.
 */
class MachineLegacyFaultReportingTest {

    @Test
    void get_legacyFaultReporting_oneInstanceOnTheMachineLog() throws Exception {
        Machine m = Machine.boot(new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"),
                List.of()));
        LegacyFaultReporting reporting = m.get(LegacyFaultReporting.class);
        IommuDomain domain = new IommuDomain(DomainType.UNMANAGED, m.get(IommuOps.class), new IommuDomainOps() { },
                null);

        reporting.setFaultHandler(domain, IommuFaultHandlers.print(m.log()), null);
        int ret = m.get(LegacyFaultReporting.class).reportIommuFault(domain, null, 0x1000,
                LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(m.get(LegacyFaultReporting.class)).isSameAs(reporting);
        assertThat(ret).isZero();
        assertThat(m.log().lines()).extracting(KernelLog.Line::text)
                .contains("(NULL device *): Unhandled context fault: iova=0x00001000, flags=0x0");
    }
}
