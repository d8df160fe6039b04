package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PA;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.SimRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DESIGN.md §6: a hardware model never throws on malformed data written by software. Seeded random
 * corruption of every structure the model reads (DDT, PDT, page tables, queues) and random register writes,
 * interleaved with every kind of inbound transaction; each run must end without an exception, and every
 * fault reported to the observer carries a standard CAUSE.
 */
class GarbageInputTest {

    private static final int[] REGISTERS = {RiscvRegs.FCTL, RiscvRegs.DDTP, RiscvRegs.CQB, RiscvRegs.CQT,
        RiscvRegs.FQB, RiscvRegs.FQH, RiscvRegs.PQB, RiscvRegs.PQH, RiscvRegs.CQCSR, RiscvRegs.FQCSR, RiscvRegs.PQCSR,
        RiscvRegs.IPSR, RiscvRegs.ICVEC};

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void model_randomCorruptionAndTraffic_neverThrows(long seed) {
        SimRandom rnd = new SimRandom(seed);
        RiscvFixture f = new RiscvFixture();
        f.attachSva(RiscvDeviceContext.TC_PRPR);
        for (int i = 0; i < 8; i++) {
            f.map(VA + 0x1000L * i, PA + 0x1000L * i, USER_RW);
        }
        f.enableFq(8, true);
        f.enablePq(8, true);
        f.enableCq(16, true);
        long structures = f.allocatedEnd() - 0x10_0000;

        assertThatCode(() -> {
            for (int step = 0; step < 400; step++) {
                corrupt(f, rnd, structures);
                traffic(f, rnd);
                if (step % 16 == 0) {
                    f.loop.runFor(rnd.nextLong(5_000_000));
                }
            }
            f.loop.runUntilIdle();
        }).doesNotThrowAnyException();
        assertThat(f.faults).allSatisfy(fault -> assertThat(fault.vendorCode()).isBetween(1, 274));
    }

    private static void corrupt(RiscvFixture f, SimRandom rnd, long structures) {
        switch (rnd.nextInt(4)) {
            case 0 -> {
                long at = 0x10_0000 + (rnd.nextLong(structures) & ~7L);
                long old = f.memory.readLong(at);
                f.memory.writeLong(at, rnd.nextBoolean() ? old ^ 1L << rnd.nextInt(64) : rnd.nextLong(Long.MAX_VALUE));
            }
            case 1 -> f.iommu.writeReg(REGISTERS[rnd.nextInt(REGISTERS.length)],
                    rnd.nextBoolean() ? rnd.nextLong(Long.MAX_VALUE) : rnd.nextLong(64));
            case 2 -> {
                int slot = rnd.nextInt(16);
                new RiscvCommand(rnd.nextLong(Long.MAX_VALUE) & ~0x78L | rnd.nextInt(5), rnd.nextLong(Long.MAX_VALUE))
                        .writeTo(f.memory, f.cqBase + 16L * slot);
                f.iommu.writeReg(RiscvRegs.CQT, rnd.nextInt(16));
            }
            default -> {
            }
        }
    }

    private static void traffic(RiscvFixture f, SimRandom rnd) {
        int rid = rnd.nextBoolean() ? DID : rnd.nextInt(0x10000);
        boolean pv = rnd.nextBoolean();
        int pid = rnd.nextBoolean() ? RiscvFixture.PASID : rnd.nextInt(1 << 20);
        long addr = (rnd.nextBoolean() ? VA + rnd.nextLong(0x10000) : rnd.nextLong(Long.MAX_VALUE)) & ~7L;
        switch (rnd.nextInt(4)) {
            case 0 -> {
                Access access = Access.values()[rnd.nextInt(3)];
                AddressType type = rnd.nextInt(4) == 0 ? AddressType.TRANSLATED : AddressType.UNTRANSLATED;
                f.iommu.memoryRequest(new DmaRequest(rid, type, pv, pid, addr, 8, access, rnd.nextBoolean(),
                        access == Access.WRITE ? WriteData.of(new byte[8]) : null));
            }
            case 1 -> f.iommu.translationRequest(new AtsTranslationRequest(rid, pv, pid, addr, rnd.nextBoolean(),
                    rnd.nextBoolean(), rnd.nextBoolean()));
            case 2 -> f.iommu.pageRequest(new PageRequestMessage(rid, pv, pid, rnd.nextBoolean(), rnd.nextBoolean(),
                    rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextBoolean(), rnd.nextInt(512), addr & ~0xfffL));
            default -> f.iommu.atsInvalidateCompletion(rid, rnd.nextInt(Integer.MAX_VALUE));
        }
    }
}
