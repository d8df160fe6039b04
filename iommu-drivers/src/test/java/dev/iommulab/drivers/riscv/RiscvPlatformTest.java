package dev.iommulab.drivers.riscv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.drivers.PlatformOptionException;
import dev.iommulab.hw.riscv.RiscvConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code riscv} platform's {@code hardware.options} (docs/scenario-format.md): {@code iotlb-entries} reaches
 * the model's {@link RiscvConfig}, {@code fq-entries} and {@code pq-entries} the driver's queue sizes; unknown
 * keys and bad values are errors naming the key.
 */
class RiscvPlatformTest {

    @Test
    void config_noOptions_modelDefaultsAndKernelQueueSizes() {
        assertThat(RiscvPlatform.config(Map.of())).isEqualTo(RiscvConfig.defaults(RiscvPlatform.UNIT_NAME));
        assertThat(RiscvPlatform.queueSizes(Map.of())).isEqualTo(RiscvIommuDriver.QueueSizes.DEFAULTS);
        assertThat(RiscvIommuDriver.QueueSizes.DEFAULTS).isEqualTo(new RiscvIommuDriver.QueueSizes(4096, 8192));
    }

    @Test
    void config_everyOption_passedOn() {
        Map<String, Object> options = Map.of("fq-entries", 16L, "pq-entries", "0x40", "iotlb-entries", 0L);

        assertThat(RiscvPlatform.config(options).iotlbEntries()).isZero();
        assertThat(RiscvPlatform.queueSizes(options)).isEqualTo(new RiscvIommuDriver.QueueSizes(16, 64));
    }

    @Test
    void config_unknownKey_errorNamesKeyAndKnownOptions() {
        PlatformOptionException e = catchThrowableOfType(PlatformOptionException.class,
                () -> RiscvPlatform.config(Map.of("prq-entries", 64L)));

        assertThat(e.key()).isEqualTo("prq-entries");
        assertThat(e.getMessage()).contains("unknown riscv option").contains("fq-entries").contains("pq-entries")
                .contains("iotlb-entries");
    }

    /** A queue needs two slots at least (it holds one entry fewer than it has); 1 and non-numbers are refused. */
    @Test
    void queueSizes_badValues_errorsNameTheKey() {
        assertThat(catchThrowableOfType(PlatformOptionException.class,
                () -> RiscvPlatform.queueSizes(Map.of("fq-entries", 1L))).key()).isEqualTo("fq-entries");
        assertThat(catchThrowableOfType(PlatformOptionException.class,
                () -> RiscvPlatform.queueSizes(Map.of("pq-entries", "lots"))).key()).isEqualTo("pq-entries");
        assertThat(catchThrowableOfType(PlatformOptionException.class,
                () -> RiscvPlatform.queueSizes(Map.of("pq-entries", (long) RiscvPlatform.MAX_QUEUE_ENTRIES + 1)))
                .key()).isEqualTo("pq-entries");
        assertThat(catchThrowableOfType(PlatformOptionException.class,
                () -> RiscvPlatform.config(Map.of("iotlb-entries", -1L))).key()).isEqualTo("iotlb-entries");
    }
}
