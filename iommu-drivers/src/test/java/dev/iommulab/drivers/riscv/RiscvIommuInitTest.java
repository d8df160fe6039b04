package dev.iommulab.drivers.riscv;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.hw.pci.EndpointOptions;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What riscv_iommu_init() leaves in the IOMMU's registers (drivers/iommu/riscv/iommu.c:
 * riscv_iommu_init_check(), riscv_iommu_queue_alloc(), riscv_iommu_queue_enable(),
 * riscv_iommu_iodir_set_mode()), plus the page-request queue the lab adds.
 */
class RiscvIommuInitTest {

    private final RiscvIommuFixture f = new RiscvIommuFixture();

    /**
     * riscv_iommu_iodir_set_mode(RISCV_IOMMU_DDTP_IOMMU_MODE_MAX): the model accepts 3LVL, so {@code ddtp}
     * holds mode 3LVL and the DDT root; the mode change is followed by IODIR.INVAL_DDT (all), IOTINVAL.VMA
     * (all) and IOFENCE.C with PR and PW, which the IOMMU has executed ({@code cqh} caught up with {@code cqt}).
     */
    @Test
    void init_defaultModel_ddtp3LvlThenDirectoryAndTlbInvalidatedAndFenced() {
        long ddtp = f.hw.readReg(RiscvRegs.DDTP);

        assertThat(ddtp & RiscvRegs.DDTP_MODE_MASK).isEqualTo(RiscvRegs.DDTP_MODE_3LVL);
        assertThat(RiscvRegs.ppnAddress(ddtp)).isNotZero();
        RiscvCommand[] first = f.commands().subList(0, 3).toArray(RiscvCommand[]::new);
        assertThat(first[0]).isEqualTo(RiscvCommand.iodirInvalDdt(false, 0));
        assertThat(first[1]).isEqualTo(RiscvCommand.iotinvalVma(false, 0, false, 0, false, 0));
        assertThat(first[2]).isEqualTo(RiscvCommand.iofenceC(false, false, true, true, 0, 0));
        assertThat(f.hw.readReg(RiscvRegs.CQH)).isEqualTo(f.hw.readReg(RiscvRegs.CQT));
    }

    /**
     * riscv_iommu_queue_alloc() and riscv_iommu_queue_enable(): the command queue has
     * RISCV_IOMMU_DEF_CQ_COUNT = 8192 slots, the fault queue RISCV_IOMMU_DEF_FQ_COUNT = 4096, the
     * page-request queue 8192 (the 2023 series' default); each CSR reads enabled, interrupt-enabled and on;
     * {@code icvec} maps CQ, FQ, PM, PQ to vectors 0-3 and "using MSIs" is logged.
     */
    @Test
    void init_defaultSizes_queuesProgrammedAndActive() {
        assertThat(log2szField(RiscvRegs.CQB)).as("CQ LOG2SZ-1").isEqualTo(12);
        assertThat(log2szField(RiscvRegs.FQB)).as("FQ LOG2SZ-1").isEqualTo(11);
        assertThat(log2szField(RiscvRegs.PQB)).as("PQ LOG2SZ-1").isEqualTo(12);
        int on = RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CIE | RiscvRegs.CQCSR_CQON;
        assertThat(f.hw.readReg(RiscvRegs.CQCSR)).isEqualTo(on);
        assertThat(f.hw.readReg(RiscvRegs.FQCSR)).isEqualTo(on);
        assertThat(f.hw.readReg(RiscvRegs.PQCSR)).isEqualTo(on);
        assertThat(f.hw.readReg(RiscvRegs.ICVEC)).isEqualTo(0x3210);
        assertThat(f.driver.fqEntries()).isEqualTo(4096);
        assertThat(f.driver.pqEntries()).isEqualTo(8192);
        assertThat(f.logTexts()).containsExactly("riscv,iommu riscv-iommu0: using MSIs");
    }

    /**
     * riscv_iommu_queue_alloc() computes LOG2SZ-1 as ilog2(count - 1), so a count that is not a power of two
     * is rounded up: 300 → 512 slots, 3 → 4, and 2 stays 2 (the smallest queue, holding one entry).
     */
    @ParameterizedTest(name = "{0} entries -> {1} slots")
    @CsvSource({"300, 512", "3, 4", "2, 2", "4096, 4096", "4097, 8192"})
    void init_queueSize_roundedUpToPowerOfTwo(int requested, int slots) {
        RiscvIommuFixture g = new RiscvIommuFixture(RiscvConfig.defaults("riscv-iommu0"),
                new RiscvIommuDriver.QueueSizes(requested, requested), EndpointOptions.DEFAULTS);

        assertThat(g.driver.fqEntries()).isEqualTo(slots);
        assertThat(g.driver.pqEntries()).isEqualTo(slots);
        assertThat(1 << (g.hw.readReg(RiscvRegs.FQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1).isEqualTo(slots);
        assertThat(1 << (g.hw.readReg(RiscvRegs.PQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1).isEqualTo(slots);
    }

    /** riscv_iommu_init_check(): an IOMMU already in a translating mode is refused with EBUSY. */
    @Test
    void init_ddtpAlreadyTranslating_failsEbusy() {
        RiscvIommu busy = new RiscvIommu(RiscvConfig.defaults("riscv-iommu1"), f.memory, f.loop, f.timing, f.fabric,
                fault -> { });
        busy.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_1LVL, 0x10_0000));

        assertThatThrownBy(() -> new RiscvIommuDriver(busy, RiscvIommuDriver.QueueSizes.DEFAULTS,
                DriverServices.withDefaultPolicies(f.frames, f.iopf, f.loop, f.timing, f.log, f.events)))
                .isInstanceOfSatisfying(KernelException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBUSY));
    }

    /**
     * Without {@code capabilities.ATS} there is no page-request queue (its registers read 0), no iopf queue,
     * and devices get no EN_ATS/EN_PRI: the driver falls back to what mainline does.
     */
    @Test
    void init_noAtsCapability_noPageRequestQueueAndNoIopfQueue() {
        RiscvConfig noAts = RiscvConfig.defaults("riscv-iommu0")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_ATS);

        RiscvIommuFixture g = new RiscvIommuFixture(noAts, RiscvIommuDriver.QueueSizes.DEFAULTS,
                EndpointOptions.DEFAULTS);

        assertThat(g.driver.iopfQueue()).isNull();
        assertThat(g.driver.pqEntries()).isZero();
        assertThat(g.hw.readReg(RiscvRegs.PQCSR)).isZero();
        assertThat(g.endpoint.atsEnabled()).isFalse();
    }

    private long log2szField(int offset) {
        return f.hw.readReg(offset) & RiscvRegs.QB_LOG2SZ_MASK;
    }
}
