package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.PSCID;
import static dev.iommulab.hw.riscv.RiscvFixture.USER_RW;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.OperationMix.Op;
import dev.iommulab.hw.iommu.OperationMix;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The IOMMU's recent translations ({@link dev.iommulab.hw.iommu.RecentTranslations} in front of the
 * device-context cache, process-context cache and IOTLB) change nothing a device or software can see: two
 * IOMMUs built alike, one of them without it, answer a long seeded mix of DMA, ATS Translation Requests, table
 * edits without invalidation (so stale entries show) and every {@code IOTINVAL} and {@code IODIR} form exactly
 * alike. The caches are small, so eviction order shows too.
 */
class RecentTranslationsTest {

    private static final long DATA = 0x0200_0000L;
    /** Mapped pages; page PAGES is never mapped. */
    private static final int PAGES = 6;
    private static final int[] DIDS = {DID, DID + 1, DID + 2};
    /** PASID and PASID + 1 with PSCID, PASID + 2 with PSCID + 1. */
    private static final int[] PIDS = {PASID, PASID + 1, PASID + 2};
    private static final long[] PTE_FLAGS = {USER_RW, RiscvPte.R | RiscvPte.U | RiscvPte.A, RiscvPte.R | RiscvPte.W
            | RiscvPte.U | RiscvPte.A, USER_RW | RiscvPte.G, RiscvPte.R | RiscvPte.W | RiscvPte.A | RiscvPte.D};
    private static final long TC = RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_EN_ATS
            | RiscvDeviceContext.TC_EN_PRI | RiscvDeviceContext.TC_PDTV | RiscvDeviceContext.TC_SADE;

    /** An IOMMU with the devices of DIDS sharing one PDT, whose processes PIDS share one Sv39 table. */
    private static final class Machine {

        final RiscvFixture f = new RiscvFixture(new RiscvConfig("r", RiscvConfig.DEFAULT_CAPABILITIES, 5, 2, 2,
                RiscvConfig.DEFAULT_ATS_INVALIDATION_TIMEOUT_NS, true));
        final long[] ptes = new long[PAGES];
        final long[] deviceContexts = new long[DIDS.length];
        final long[] processContexts = new long[PIDS.length];
        final RiscvDeviceContext dc;

        Machine(boolean recentTranslations) {
            if (!recentTranslations) {
                f.iommu.translation().forgetRecentTranslations();
            }
            f.attachSva(0);
            f.enableCq(64, false);
            dc = RiscvDeviceContext.readFrom(f.memory, f.dcAddress(DID));
            for (int i = 0; i < DIDS.length; i++) {
                deviceContexts[i] = f.writeDc(DIDS[i], dc);
            }
            for (int i = 0; i < PIDS.length; i++) {
                processContexts[i] = f.writePc(PIDS[i], process(i));
            }
            for (int page = 0; page < PAGES; page++) {
                ptes[page] = f.map(VA + 4096L * page, DATA + 4096L * page, USER_RW);
            }
            for (int frame = 0; frame <= PAGES; frame++) {
                f.memory.writeLong(DATA + 4096L * frame, frame + 1);
                f.memory.writeLong(DATA + 4096L * frame + 8, frame + 101);
            }
        }

        RiscvProcessContext process(int i) {
            return RiscvProcessContext.of(PSCID + i / 2, 0, RiscvDeviceContext.encodeAtp(8, f.fsRoot));
        }

        /** Carries out {@code op}; returns what a device would see of it (nothing for software's steps). */
        String apply(Op op) {
            int did = DIDS[op.a() % DIDS.length];
            int pid = PIDS[op.b() % PIDS.length];
            long va = VA + 4096L * (op.c() % (PAGES + 1));
            switch (op.kind()) {
                case 0 -> {
                    return dma(new DmaRequest(did, AddressType.UNTRANSLATED, op.flag(), op.flag() ? pid : 0,
                            va + 8L * (op.c() & 1), 8, Access.READ, false, null));
                }
                case 1 -> {
                    return dma(new DmaRequest(did, AddressType.UNTRANSLATED, true, pid, va, 8, Access.WRITE, false,
                            WriteData.of(new byte[] {7, 7, 7, 7, 7, 7, 7, 7})));
                }
                case 2 -> {
                    return f.iommu.translationRequest(new AtsTranslationRequest(did, true, pid, va, op.flag(), false,
                            false)).toString();
                }
                case 3 -> f.memory.writeLong(ptes[op.c() % PAGES], op.flag() ? 0
                        : RiscvPte.encode(DATA + 4096L * (op.b() % (PAGES + 1)), PTE_FLAGS[op.a() % PTE_FLAGS.length]
                        | RiscvPte.V));
                case 4 -> (op.flag() ? new RiscvDeviceContext(0, 0, 0, 0) : dc).writeTo(f.memory,
                        deviceContexts[op.a() % DIDS.length]);
                case 5 -> (op.flag() ? new RiscvProcessContext(0, 0) : process(op.b() % PIDS.length))
                        .writeTo(f.memory, processContexts[op.b() % PIDS.length]);
                default -> f.submit(invalidation(op, did, pid, va));
            }
            return "";
        }

        private String dma(DmaRequest r) {
            DmaCompletion c = f.iommu.memoryRequest(r);
            return c.status() + " " + c.pa() + " " + Arrays.toString(c.data());
        }

        private static RiscvCommand invalidation(Op op, int did, int pid, long va) {
            int pscid = PSCID + op.b() % 2;
            return switch (op.a() % 7) {
                case 0 -> RiscvCommand.iotinvalVma(false, 0, true, pscid, op.flag(), va);
                case 1 -> RiscvCommand.iotinvalVma(false, 0, false, 0, op.flag(), va);
                case 2 -> RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0);
                case 3 -> RiscvCommand.iotinvalGvma(false, 0, false, 0);
                case 4 -> RiscvCommand.iodirInvalDdt(!op.flag(), did);
                case 5 -> RiscvCommand.iodirInvalPdt(did, pid);
                default -> RiscvCommand.iotinvalVma(false, 0, false, 0, false, 0);
            };
        }
    }

    /**
     * {@code spread} bounds the operands: 64 reaches every device, process and page, 3 keeps to a few so that
     * transactions repeat and the caches, full, evict among entries the recent translations use.
     */
    @ParameterizedTest
    @CsvSource({"1, 64", "2, 64", "3, 3", "4, 3", "5, 3", "6, 3"})
    void seededMix_withAndWithoutRecentTranslations_sameObservations(long seed, int spread) {
        Machine with = new Machine(true);
        Machine without = new Machine(false);
        List<Op> ops = OperationMix.draw(seed, spread, 4000, false);
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            assertThat(with.apply(op)).as("operation %d: %s", i, op).isEqualTo(without.apply(op));
        }

        assertThat(with.f.faults).isEqualTo(without.f.faults);
        assertThat(with.f.iommu.translation().iotlb().size()).isEqualTo(without.f.iommu.translation().iotlb().size());
        assertThat(with.f.iommu.translation().deviceContexts().cachedEntries())
                .isEqualTo(without.f.iommu.translation().deviceContexts().cachedEntries());
        assertThat(with.f.iommu.translation().processContexts().cachedEntries())
                .isEqualTo(without.f.iommu.translation().processContexts().cachedEntries());
        assertThat(with.f.memory.read(DATA, 4096 * (PAGES + 1))).isEqualTo(without.f.memory.read(DATA,
                4096 * (PAGES + 1)));
    }

    /**
     * A transaction answered again from the recent translations (the second read) still gives way to each command
     * that drops an entry it used: afterwards the IOMMU reads the tables anew.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 4, 5, 6})
    void invalidation_afterRepeatedTranslation_nextTransactionSeesTheTables(int kind) {
        Machine m = new Machine(true);
        Op read = new Op(0, 0, 0, 0, true);
        m.apply(read);
        assertThat(m.apply(read)).as("cached").contains("[1, 0, 0, 0, 0, 0, 0, 0]");
        m.f.memory.writeLong(m.ptes[0], RiscvPte.encode(DATA + 4096, USER_RW | RiscvPte.V));
        new RiscvDeviceContext(0, 0, 0, 0).writeTo(m.f.memory, m.deviceContexts[0]);
        new RiscvProcessContext(0, 0).writeTo(m.f.memory, m.processContexts[0]);
        assertThat(m.apply(read)).as("stale").contains("[1, 0, 0, 0, 0, 0, 0, 0]");

        m.f.submit(Machine.invalidation(new Op(6, kind, 0, 0, true), DID, PASID, VA));

        String after = m.apply(read);
        if (kind == 4) {
            assertThat(m.f.causes()).as("device context read again: not valid")
                    .containsExactly(RiscvCause.DDT_NOT_VALID);
        } else if (kind == 5) {
            assertThat(m.f.causes()).as("process context read again: not valid")
                    .containsExactly(RiscvCause.PDT_NOT_VALID);
        } else {
            assertThat(after).as("PTE read again").contains("[2, 0, 0, 0, 0, 0, 0, 0]");
        }
    }

    /** A command that drops nothing (another PSCID) leaves the cached translation in use. */
    @Test
    void invalidation_ofAnotherPscid_cachedTranslationStillUsed() {
        Machine m = new Machine(true);
        Op read = new Op(0, 0, 0, 0, true);
        m.apply(read);
        m.apply(read);
        m.f.memory.writeLong(m.ptes[0], RiscvPte.encode(DATA + 4096, USER_RW | RiscvPte.V));

        m.f.submit(RiscvCommand.iotinvalVma(false, 0, true, PSCID + 1, false, 0));

        assertThat(m.apply(read)).contains("[1, 0, 0, 0, 0, 0, 0, 0]");
    }

    /**
     * Answering from the recent translations makes the entries it used the most recently used, in each cache
     * (room for two device contexts, two process contexts, five translations): A and B filled, hit and
     * remembered, A answered again; then new entries evict B's, not A's. A is then still served from the caches
     * after its tables were cleared, B reads them again.
     */
    @ParameterizedTest
    @ValueSource(strings = {"device", "process", "iotlb"})
    void repeatedTranslation_keepsItsEntriesMostRecentlyUsed(String cache) {
        Machine m = new Machine(true);
        List<Op> sequence = new ArrayList<>(switch (cache) {
            case "device" -> List.of(new Op(0, 0, 0, 0, true), new Op(0, 1, 0, 0, true), new Op(0, 2, 0, 0, true));
            case "process" -> List.of(new Op(0, 0, 0, 0, true), new Op(0, 0, 1, 0, true), new Op(0, 0, 2, 0, true));
            default -> List.of(new Op(0, 0, 0, 0, true), new Op(0, 0, 0, 1, true), new Op(0, 0, 0, 2, true),
                    new Op(0, 0, 0, 3, true), new Op(0, 0, 0, 4, true), new Op(0, 0, 0, 5, true));
        });
        Op a = sequence.get(0);
        Op b = sequence.get(1);
        for (Op op : List.of(a, b, a, b, a)) {
            m.apply(op);
        }
        for (Op evictor : sequence.subList(2, sequence.size())) {
            m.apply(evictor);
        }
        for (int i = 0; i < 3; i++) {
            new RiscvDeviceContext(0, 0, 0, 0).writeTo(m.f.memory, m.deviceContexts[i]);
            new RiscvProcessContext(0, 0).writeTo(m.f.memory, m.processContexts[i]);
            m.f.memory.writeLong(m.ptes[i], RiscvPte.encode(DATA + 4096L * 5, USER_RW | RiscvPte.V));
        }

        assertThat(m.apply(a)).as("A kept").contains("SUCCESS").contains("[1, 0, 0, 0, 0, 0, 0, 0]");
        assertThat(m.apply(b)).as("B evicted").doesNotContain("[1, 0, 0, 0, 0, 0, 0, 0]")
                .doesNotContain("[2, 0, 0, 0, 0, 0, 0, 0]");
    }
}
