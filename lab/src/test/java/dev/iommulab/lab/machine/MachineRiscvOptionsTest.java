package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.drivers.riscv.RiscvIommuDriver;
import dev.iommulab.drivers.riscv.RiscvPlatform;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The riscv model's {@code hardware.options} reach the model's {@link RiscvConfig} and the driver's queues
 * (docs/scenario-format.md): fq-entries and pq-entries (rounded up to a power of two), iotlb-entries; unknown
 * keys and bad values are configuration errors naming the key.
 */
class MachineRiscvOptionsTest {

    private static Scenario firstTouch(String... overrides) throws Exception {
        return new ScenarioLoader().load(ScenarioFiles.SCENARIOS.resolve("riscv-sva-first-touch.yaml"),
                List.of(overrides));
    }

    @Test
    void boot_noOptions_riscvModelDriverAndDefaultQueues() throws Exception {
        Machine m = Machine.boot(firstTouch());

        assertThat(m.hardware()).isInstanceOfSatisfying(RiscvIommu.class, hw ->
                assertThat(hw.config()).isEqualTo(RiscvConfig.defaults(RiscvPlatform.UNIT_NAME)));
        assertThat(m.ops()).isInstanceOfSatisfying(RiscvIommuDriver.class, driver -> {
            assertThat(driver.fqEntries()).isEqualTo(RiscvIommuDriver.DEFAULT_FQ_ENTRIES);
            assertThat(driver.pqEntries()).isEqualTo(RiscvIommuDriver.DEFAULT_PQ_ENTRIES);
        });
    }

    @Test
    void build_everyOption_passedToModelAndDriver() throws Exception {
        Machine m = Machine.builder().hardware("riscv").hardwareOption("fq-entries", 300)
                .hardwareOption("pq-entries", 16).hardwareOption("iotlb-entries", 0).build();

        assertThat(m.hardware()).isInstanceOfSatisfying(RiscvIommu.class, hw ->
                assertThat(hw.config().iotlbEntries()).isZero());
        assertThat(m.ops()).isInstanceOfSatisfying(RiscvIommuDriver.class, driver -> {
            assertThat(driver.fqEntries()).as("300 rounded up").isEqualTo(512);
            assertThat(driver.pqEntries()).isEqualTo(16);
        });
    }

    @Test
    void boot_everyOptionSetOnScenario_passedToModelAndDriver() throws Exception {
        Machine m = Machine.boot(firstTouch("hardware.options.fq-entries=300", "hardware.options.pq-entries=16",
                "hardware.options.iotlb-entries=0"));

        assertThat(m.hardware()).isInstanceOfSatisfying(RiscvIommu.class, hw ->
                assertThat(hw.config().iotlbEntries()).isZero());
        assertThat(m.ops()).isInstanceOfSatisfying(RiscvIommuDriver.class, driver -> {
            assertThat(driver.fqEntries()).as("300 rounded up").isEqualTo(512);
            assertThat(driver.pqEntries()).isEqualTo(16);
        });
    }

    @Test
    void checkHardware_unknownOption_errorNamesKeyAndKnownOptions() throws Exception {
        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(firstTouch("hardware.options.prq-entries=64")));

        assertThat(e.key()).isEqualTo("hardware.options.prq-entries");
        assertThat(e.getMessage()).contains("unknown riscv option").contains("fq-entries").contains("pq-entries");
    }

    @Test
    void checkHardware_badValues_errorsNameTheKey() throws Exception {
        assertThat(catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(firstTouch("hardware.options.fq-entries=1"))).key())
                .isEqualTo("hardware.options.fq-entries");
        assertThat(catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(firstTouch("hardware.options.pq-entries=lots"))).key())
                .isEqualTo("hardware.options.pq-entries");
    }

    /** fault-quota, the lab's invented per-device fault quota: 0 (off) by default, a number reaches RiscvConfig. */
    @Test
    void boot_faultQuota_passedToModelAndCheckedForRange() throws Exception {
        Machine m = Machine.builder().hardware("riscv").hardwareOption("fault-quota", 2).build();

        assertThat(m.hardware()).isInstanceOfSatisfying(RiscvIommu.class, hw ->
                assertThat(hw.config().faultQuota()).isEqualTo(2));
        assertThat(Machine.builder().hardware("riscv").build().hardware()).isInstanceOfSatisfying(RiscvIommu.class,
                hw -> assertThat(hw.config().faultQuota()).isZero());
        MachineConfigException e = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(firstTouch("hardware.options.fault-quota=-1")));
        assertThat(e.key()).isEqualTo("hardware.options.fault-quota");
        assertThat(e.getMessage()).contains("must be an integer from 0 to");
    }
}
