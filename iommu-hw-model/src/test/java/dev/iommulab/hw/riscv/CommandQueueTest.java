package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.AtsInvalidationTracker;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The command queue: fetch from {@code cqh}, {@code ATS.INVAL}/{@code ATS.PRGR}, {@code IOFENCE.C} with its
 * store, WSI and wait for invalidations, and the error bits {@code cmd_ill}/{@code cqmf} (riscv-iommu
 * "Command-Queue (CQ)" and register {@code cqcsr}; reference/iommu-hardware.md §2.4.5; RV-REF
 * {@code process_commands}, {@code do_iofence_c}). Cache invalidation commands are tested in
 * {@link CacheInvalidationTest}.
 */
class CommandQueueTest {

    private final RiscvFixture f = new RiscvFixture();

    @BeforeEach
    void setUp() {
        f.attachSva(0);
        f.enableCq(64, true);
    }

    private int cqcsr() {
        return f.reg32(RiscvRegs.CQCSR);
    }

    @Test
    void atsInval_onePage_sendsInvalidateRequestWithPasid() {
        f.submit(RiscvCommand.atsInval(DID, true, PASID, false, VA + 0x3000, 4096));
        f.loop.runUntilIdle();

        assertThat(f.function.invalidations).singleElement().satisfies(r -> {
            assertThat(r.rid()).isEqualTo(DID);
            assertThat(r.pasidPresent()).isTrue();
            assertThat(r.pasid()).isEqualTo(PASID);
            assertThat(r.global()).isFalse();
            assertThat(r.addr()).isEqualTo(VA + 0x3000);
            assertThat(r.size()).isEqualTo(4096);
        });
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(1);
    }

    @Test
    void atsInval_twoMegabytesGlobal_sizeDecodedFromSBit() {
        f.submit(RiscvCommand.atsInval(DID, false, 0, true, VA + 0x12_3000, 2L << 20));
        f.loop.runUntilIdle();

        AtsInvalidateRequest r = f.function.invalidations.get(0);
        assertThat(r.global()).isTrue();
        assertThat(r.pasidPresent()).isFalse();
        assertThat(r.addr()).isEqualTo(VA);
        assertThat(r.size()).isEqualTo(2L << 20);
    }

    @Test
    void iofence_afterAnsweredInvalidation_completesAndStoresData() {
        f.submit(RiscvCommand.atsInval(DID, true, PASID, false, VA, 4096));

        assertThat(f.fence()).isTrue();
        assertThat(cqcsr() & (RiscvRegs.CQCSR_CMD_TO | RiscvRegs.CQCSR_CMD_ILL | RiscvRegs.CQCSR_CQMF)).isZero();
    }

    @Test
    void iofence_invalidationOutstanding_waitsForCompletion() {
        f.function.answersInvalidations = false;
        long status = f.fenceStatus();
        f.submit(RiscvCommand.atsInval(DID, true, PASID, false, VA, 4096),
                RiscvCommand.iofenceC(true, false, false, false, status, 0x77),
                RiscvCommand.atsPrgr(DID, false, 0, 3, 0));
        f.loop.runFor(1_000_000);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(1);
        assertThat(f.memory.readInt(status)).isZero();

        f.iommu.atsInvalidateCompletion(0x0999, 1); // from another function: ignored
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(1);
        f.iommu.atsInvalidateCompletion(DID, 1 << f.function.invalidations.get(0).itag());
        f.loop.runFor(1_000_000);

        assertThat(f.memory.readInt(status)).isEqualTo(0x77);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(3);
        assertThat(f.function.responses).hasSize(1);
        assertThat(cqcsr() & RiscvRegs.CQCSR_CMD_TO).isZero();
    }

    @Test
    void atsInval_allTagsBusy_commandWaitsForAFreeTag() {
        f.function.answersInvalidations = false;
        RiscvCommand[] commands = new RiscvCommand[AtsInvalidationTracker.TAGS + 1];
        for (int i = 0; i < commands.length; i++) {
            commands[i] = RiscvCommand.atsInval(DID, false, 0, false, VA + 0x1000L * i, 4096);
        }
        f.submit(commands);
        f.loop.runFor(1_000_000);
        assertThat(f.function.invalidations).hasSize(AtsInvalidationTracker.TAGS);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(AtsInvalidationTracker.TAGS);

        f.iommu.atsInvalidateCompletion(DID, 1 << 7);
        f.loop.runFor(1_000_000);

        assertThat(f.function.invalidations).hasSize(AtsInvalidationTracker.TAGS + 1);
        assertThat(f.function.invalidations.get(AtsInvalidationTracker.TAGS).itag()).isEqualTo(7);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(AtsInvalidationTracker.TAGS + 1);
    }

    @Test
    void atsPrgr_withPasid_sendsResponseWithCode() {
        f.submit(RiscvCommand.atsPrgr(DID, true, PASID, 0x1ff, PrgResponseCode.INVALID_REQUEST.wire()));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).containsExactly(new PrgResponse(DID, true, PASID, 0x1ff, 1));
    }

    @Test
    void atsPrgr_withoutPv_noPasidEvenIfPidSet() {
        RiscvCommand c = RiscvCommand.atsPrgr(DID, false, 0, 5, 0xf);
        f.submit(new RiscvCommand(c.qw0() | (long) PASID << 12, c.qw1()));
        f.loop.runUntilIdle();

        assertThat(f.function.responses).containsExactly(new PrgResponse(DID, false, 0, 5, 0xf));
    }

    @Test
    void iofence_wsiWithWiredInterrupts_setsFenceWipAndCip() {
        f.iommu.writeReg(RiscvRegs.FCTL, RiscvRegs.FCTL_WSI);

        f.submit(RiscvCommand.iofenceC(false, true, false, false, 0, 0));
        f.loop.runUntilIdle();

        assertThat(cqcsr() & RiscvRegs.CQCSR_FENCE_W_IP).isNotZero();
        assertThat(f.reg32(RiscvRegs.IPSR) & RiscvRegs.IPSR_CIP).isNotZero();
        assertThat(f.cqInterrupts).isEqualTo(1);
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(1);
    }

    @Test
    void iofence_wsiWithMsi_illegal() {
        f.submit(RiscvCommand.iofenceC(false, true, false, false, 0, 0));

        assertThat(cqcsr() & RiscvRegs.CQCSR_CMD_ILL).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void iofence_storeOutsideMemory_cqmfAndCqhOnFence() {
        f.submit(RiscvCommand.iofenceC(true, false, false, false, RiscvFixture.MEMORY_SIZE, 1));

        assertThat(cqcsr() & RiscvRegs.CQCSR_CQMF).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void illegalCommand_cmdIllStopsQueueUntilFixedAndCleared() {
        f.submit(new RiscvCommand(5, 0), RiscvCommand.atsPrgr(DID, false, 0, 1, 0));
        f.loop.runUntilIdle();
        assertThat(cqcsr() & RiscvRegs.CQCSR_CMD_ILL).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
        assertThat(f.function.responses).isEmpty();
        assertThat(f.cqInterrupts).isEqualTo(1);

        RiscvCommand.iodirInvalDdt(false, 0).writeTo(f.memory, f.cqBase);
        f.iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CIE | RiscvRegs.CQCSR_CMD_ILL);
        f.loop.runUntilIdle();

        assertThat(cqcsr() & RiscvRegs.CQCSR_CMD_ILL).isZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isEqualTo(2);
        assertThat(f.function.responses).hasSize(1);
    }

    private void assertIllegal(RiscvCommand c) {
        f.submit(c);
        assertThat(cqcsr() & RiscvRegs.CQCSR_CMD_ILL).as("%s", c).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void iotinval_reservedBitSet_illegal() {
        RiscvCommand c = RiscvCommand.iotinvalVma(false, 0, false, 0, false, 0);
        assertIllegal(new RiscvCommand(c.qw0() | 1L << 11, c.qw1()));
    }

    @Test
    void iotinvalGvma_withPscv_illegal() {
        RiscvCommand c = RiscvCommand.iotinvalGvma(true, 1, false, 0);
        assertIllegal(new RiscvCommand(c.qw0() | 1L << 32, c.qw1()));
    }

    @Test
    void iotinval_unknownFunc3_illegal() {
        assertIllegal(new RiscvCommand(RiscvCommand.OPCODE_IOTINVAL | 2L << 7, 0));
    }

    @Test
    void iodirInvalPdt_withoutDv_illegal() {
        RiscvCommand c = RiscvCommand.iodirInvalPdt(DID, PASID);
        assertIllegal(new RiscvCommand(c.qw0() & ~(1L << 33), c.qw1()));
    }

    @Test
    void iodirInvalDdt_withPid_illegal() {
        RiscvCommand c = RiscvCommand.iodirInvalDdt(true, DID);
        assertIllegal(new RiscvCommand(c.qw0() | 3L << 12, c.qw1()));
    }

    @Test
    void iodir_didWiderThanDdtMode_illegal() {
        f.iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_2LVL, f.ddtRoot));
        assertIllegal(RiscvCommand.iodirInvalDdt(true, 0x1_0000));
    }

    @Test
    void atsCommand_withoutAtsCapability_illegal() {
        RiscvFixture noAts = new RiscvFixture(RiscvConfig.defaults("r")
                .withCapabilities(RiscvConfig.DEFAULT_CAPABILITIES & ~RiscvRegs.CAP_ATS));
        noAts.enableCq(8, false);

        noAts.submit(RiscvCommand.atsPrgr(DID, false, 0, 1, 0));

        assertThat(noAts.reg32(RiscvRegs.CQCSR) & RiscvRegs.CQCSR_CMD_ILL).isNotZero();
    }

    @Test
    void fetch_queueOutsideMemory_cqmf() {
        f.iommu.writeReg(RiscvRegs.CQCSR, 0);
        f.iommu.writeReg(RiscvRegs.CQB, RiscvRegs.queueBase(RiscvFixture.MEMORY_SIZE, 8));
        f.iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN);

        f.iommu.writeReg(RiscvRegs.CQT, 1);

        assertThat(cqcsr() & RiscvRegs.CQCSR_CQMF).isNotZero();
        assertThat(f.reg32(RiscvRegs.CQH)).isZero();
    }

    @Test
    void queueDisabled_commandsWaitUntilEnabled() {
        f.iommu.writeReg(RiscvRegs.CQCSR, 0);
        RiscvCommand.atsPrgr(DID, false, 0, 1, 0).writeTo(f.memory, f.cqBase);
        f.iommu.writeReg(RiscvRegs.CQT, 1);
        f.loop.runUntilIdle();
        assertThat(f.function.responses).isEmpty();

        f.iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN);
        f.loop.runUntilIdle();

        assertThat(f.function.responses).hasSize(1);
    }
}
