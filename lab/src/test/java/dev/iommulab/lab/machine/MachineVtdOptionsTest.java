package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.drivers.intel.IntelIommu;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The vtd model's {@code hardware.options} reach the unit's {@link VtdConfig} (docs/scenario-format.md):
 * mode, fault-records, prq-entries (the driver's ring, rounded up to whole PQS pages), the auto-response
 * switch and iotlb-entries; unknown keys and bad values are configuration errors naming the key.
 */
class MachineVtdOptionsTest {

    private static Scenario quickstart(String... overrides) throws Exception {
        return new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("quickstart.yaml"), List.of(overrides));
    }

    @Test
    void boot_noOptions_defaultConfig() throws Exception {
        Machine m = Machine.boot(quickstart());

        assertThat(m.hardware()).isInstanceOfSatisfying(VtdUnit.class, unit ->
                assertThat(unit.config()).isEqualTo(VtdConfig.defaults("dmar0")));
        assertThat(m.ops()).isInstanceOfSatisfying(IntelIommu.class, driver ->
                assertThat(driver.prqDepth()).isEqualTo(IntelIommu.PRQ_DEPTH));
    }

    @Test
    void boot_everyOption_passedToUnitAndDriver() throws Exception {
        Machine m = Machine.boot(quickstart("hardware.options.mode=legacy", "hardware.options.fault-records=2",
                "hardware.options.prq-entries=300", "hardware.options.auto-respond-on-prq-full=false",
                "hardware.options.iotlb-entries=0"));

        assertEveryOption(m);
    }

    @Test
    void build_everyOption_passedToUnitAndDriver() throws Exception {
        Machine m = Machine.builder().hardware("vtd").hardwareOption("mode", "legacy")
                .hardwareOption("fault-records", 2).hardwareOption("prq-entries", 300).hardwareOption("auto-respond-on-prq-full", false)
                .hardwareOption("iotlb-entries", 0).build();

        assertEveryOption(m);
    }

    private static void assertEveryOption(Machine m) {
        VtdConfig c = ((VtdUnit) m.hardware()).config();
        assertThat(c.mode()).isEqualTo(VtdConfig.Mode.LEGACY);
        assertThat(c.faultRecords()).isEqualTo(2);
        assertThat(c.prqEntries()).isEqualTo(300);
        assertThat(c.autoRespondOnPrqFull()).isFalse();
        assertThat(c.iotlbEntries()).isZero();
        assertThat(((IntelIommu) m.ops()).prqDepth()).as("300 rounded up to 4 pages").isEqualTo(512);
    }

    @Test
    void checkHardware_unknownOption_errorNamesKeyAndKnownOptions() throws Exception {
        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("hardware.options.iotlb-size=4")));

        assertThat(e.key()).isEqualTo("hardware.options.iotlb-size");
        assertThat(e.getMessage()).contains("unknown vtd option").contains("fault-records").contains("iotlb-entries");
    }

    @Test
    void checkHardware_badValues_errorsNameTheKey() throws Exception {
        assertThat(catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("hardware.options.fault-records=0"))).key())
                .isEqualTo("hardware.options.fault-records");
        assertThat(catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("hardware.options.mode=nested"))).key())
                .isEqualTo("hardware.options.mode");
        assertThat(catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(quickstart("hardware.options.prq-entries=lots"))).key())
                .isEqualTo("hardware.options.prq-entries");
    }
}
