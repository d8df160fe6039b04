package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.DOMAIN_ID;
import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.OperationMix.Op;
import dev.iommulab.hw.iommu.OperationMix;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86Pte;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The unit's recent translations ({@link dev.iommulab.hw.iommu.RecentTranslations} in front of the context cache,
 * PASID cache and IOTLB) change nothing a device or software can see: two units built alike, one of them without
 * it, answer a long seeded mix of DMA, ATS Translation Requests, table edits without invalidation (so stale
 * entries show) and every kind of cache invalidation exactly alike — the same data, addresses, completions,
 * faults and cache occupancy. The caches are small, so eviction order shows too.
 */
class RecentTranslationsTest {

    private static final long VA = 0x0000_7f00_0000_0000L;
    private static final long DATA = 0x0080_0000L;
    /** Mapped pages; page PAGES is never mapped. */
    private static final int PAGES = 6;
    private static final int[] RIDS = {RID, RID | 1, RID | 5};
    /** PASID and PASID + 1 in DOMAIN_ID, PASID + 2 in DOMAIN_ID + 1. */
    private static final int[] PASIDS = {PASID, PASID + 1, PASID + 2};
    private static final long[] PTE_FLAGS = {X86Pte.RW | X86Pte.US, X86Pte.US, X86Pte.RW | X86Pte.US | X86Pte.A
            | X86Pte.D, X86Pte.US | X86Pte.A, X86Pte.RW};
    private static final long CONTEXT = VtdEntries.PRESENT | VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE
            | VtdEntries.CTX_PRE;
    private static final long FIRST_STAGE = VtdEntries.PRESENT
            | (long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT;

    /** A unit with its tables: the requesters of RIDS and the PASIDs of PASIDS on one first-stage table. */
    private static final class Machine {

        final VtdFixture f;
        final long[] ptes = new long[PAGES];
        final long[] contexts = new long[RIDS.length];
        final long[] pasidEntries = new long[PASIDS.length];

        Machine(boolean recentTranslations) {
            f = new VtdFixture(VtdConfig.defaults("dmar0").withCacheEntries(2).withIotlbEntries(5));
            if (!recentTranslations) {
                f.unit.engine().forgetRecentTranslations();
            }
            f.enableInvalidationQueue();
            for (int i = 0; i < RIDS.length; i++) {
                contexts[i] = f.writeContext(RIDS[i], CONTEXT);
            }
            for (int i = 0; i < PASIDS.length; i++) {
                pasidEntries[i] = f.writePasidEntry(PASIDS[i], FIRST_STAGE, DOMAIN_ID + i / 2, f.flRoot);
            }
            for (int page = 0; page < PAGES; page++) {
                ptes[page] = f.map(VA + 4096L * page, DATA + 4096L * page, X86Pte.RW | X86Pte.US);
            }
            for (int frame = 0; frame <= PAGES; frame++) {
                f.memory.writeLong(DATA + 4096L * frame, frame + 1);
                f.memory.writeLong(DATA + 4096L * frame + 8, frame + 101);
            }
        }

        /** Carries out {@code op}; returns what a device would see of it (nothing for software's steps). */
        String apply(Op op) {
            int rid = RIDS[op.a() % RIDS.length];
            int pasid = PASIDS[op.b() % PASIDS.length];
            long va = VA + 4096L * (op.c() % (PAGES + 1));
            return switch (op.kind()) {
                case 0 -> dma(new DmaRequest(rid, AddressType.UNTRANSLATED, op.flag(), pasid, va + 8L * (op.c() & 1),
                        8, Access.READ, false, null));
                case 1 -> dma(new DmaRequest(rid, AddressType.UNTRANSLATED, true, pasid, va, 8, Access.WRITE, false,
                        WriteData.of(new byte[] {7, 7, 7, 7, 7, 7, 7, 7})));
                case 2 -> f.unit.translationRequest(new AtsTranslationRequest(rid, true, pasid, va, op.flag(), false,
                        false)).toString();
                case 3 -> {
                    int page = op.c() % PAGES;
                    long flags = PTE_FLAGS[op.a() % PTE_FLAGS.length];
                    f.memory.writeLong(ptes[page], op.flag() ? 0 : DATA + 4096L * (op.b() % (PAGES + 1)) | flags
                            | X86Pte.P);
                    yield "";
                }
                case 4 -> {
                    f.memory.writeLong(contexts[op.a() % RIDS.length], op.flag() ? 0 : f.pasidDir | CONTEXT);
                    yield "";
                }
                case 5 -> {
                    f.memory.writeLong(pasidEntries[op.b() % PASIDS.length], op.flag() ? 0 : FIRST_STAGE);
                    yield "";
                }
                default -> {
                    f.submit(invalidation(op, rid, pasid, va));
                    f.settle();
                    yield "";
                }
            };
        }

        private String dma(DmaRequest r) {
            DmaCompletion c = f.unit.memoryRequest(r);
            return c.status() + " " + c.pa() + " " + Arrays.toString(c.data());
        }

        private static QiDescriptor invalidation(Op op, int rid, int pasid, long va) {
            int did = DOMAIN_ID + op.b() % 2;
            int am = op.c() % 3;
            return switch (op.a() % 11) {
                case 0 -> QiDescriptor.contextCache(QiDescriptor.CC_GLOBAL, 0, 0, 0);
                case 1 -> QiDescriptor.contextCache(QiDescriptor.CC_DOMAIN, did, 0, 0);
                case 2 -> QiDescriptor.contextCache(QiDescriptor.CC_DEVICE, 0, rid, op.c() % 4);
                case 3 -> QiDescriptor.pasidCache(QiDescriptor.PC_DOMAIN, did, 0);
                case 4 -> QiDescriptor.pasidCache(QiDescriptor.PC_PASID, did, pasid);
                case 5 -> QiDescriptor.pasidCache(QiDescriptor.PC_GLOBAL, 0, 0);
                case 6 -> QiDescriptor.iotlb(QiDescriptor.IOTLB_GLOBAL, 0, 0, 0, false);
                case 7 -> QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, did, 0, 0, false);
                case 8 -> QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, did, va, am, false);
                case 9 -> QiDescriptor.pasidIotlbAll(did, pasid);
                default -> QiDescriptor.pasidIotlbPages(did, pasid, va, am);
            };
        }
    }

    /**
     * {@code spread} bounds the operands: 64 reaches every requester, PASID and page, 3 keeps to a few so
     * that requests repeat and the caches, full, evict among entries the recent translations use.
     */
    @ParameterizedTest
    @CsvSource({"1, 64", "2, 64", "3, 3", "4, 3", "5, 3", "6, 3"})
    void seededMix_withAndWithoutRecentTranslations_sameObservations(long seed, int spread) {
        Machine with = new Machine(true);
        Machine without = new Machine(false);
        List<Op> ops = OperationMix.draw(seed, spread, 4000, true);
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            assertThat(with.apply(op)).as("operation %d: %s", i, op).isEqualTo(without.apply(op));
        }

        assertThat(with.f.faults).isEqualTo(without.f.faults);
        assertThat(with.f.unit.engine().iotlb().size()).isEqualTo(without.f.unit.engine().iotlb().size());
        assertThat(with.f.unit.engine().caches().contextEntries())
                .isEqualTo(without.f.unit.engine().caches().contextEntries());
        assertThat(with.f.unit.engine().caches().pasidEntries())
                .isEqualTo(without.f.unit.engine().caches().pasidEntries());
        assertThat(with.f.memory.read(DATA, 4096 * (PAGES + 1))).isEqualTo(without.f.memory.read(DATA,
                4096 * (PAGES + 1)));
    }

    /**
     * A translation answered again from the recent translations (the second read) still gives way to each
     * invalidation that drops an entry it used: afterwards the unit reads the tables anew.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10})
    void invalidation_afterRepeatedTranslation_nextRequestSeesTheTables(int kind) {
        Machine m = new Machine(true);
        DmaRequest read = new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA, 8, Access.READ, false, null);
        m.f.unit.memoryRequest(read);
        assertThat(m.f.unit.memoryRequest(read).data()).as("cached").containsExactly(1, 0, 0, 0, 0, 0, 0, 0);
        m.f.memory.writeLong(m.ptes[0], DATA + 4096 | X86Pte.RW | X86Pte.US | X86Pte.P);
        m.f.memory.writeLong(m.contexts[0], 0);
        m.f.memory.writeLong(m.pasidEntries[0], 0);
        assertThat(m.f.unit.memoryRequest(read).data()).as("stale").containsExactly(1, 0, 0, 0, 0, 0, 0, 0);

        m.f.submit(Machine.invalidation(new Op(6, kind, 0, 0, false), RID, PASID, VA));
        m.f.settle();

        DmaCompletion after = m.f.unit.memoryRequest(read);
        if (kind <= 2) {
            assertThat(m.f.faultCodes()).as("context entry read again: not present").containsExactly(0x41);
        } else if (kind <= 5) {
            assertThat(m.f.faultCodes()).as("PASID entry read again: not present").containsExactly(0x59);
        } else {
            assertThat(after.data()).as("PTE read again").containsExactly(2, 0, 0, 0, 0, 0, 0, 0);
        }
    }

    /** An invalidation that drops nothing (another domain) leaves the cached translation in use. */
    @Test
    void invalidation_ofAnotherDomain_cachedTranslationStillUsed() {
        Machine m = new Machine(true);
        DmaRequest read = new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA, 8, Access.READ, false, null);
        m.f.unit.memoryRequest(read);
        m.f.unit.memoryRequest(read);
        m.f.memory.writeLong(m.ptes[0], DATA + 4096 | X86Pte.RW | X86Pte.US | X86Pte.P);

        m.f.submit(QiDescriptor.pasidIotlbAll(DOMAIN_ID + 1, PASID), QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN,
                DOMAIN_ID + 1, 0, 0, false));
        m.f.settle();

        assertThat(m.f.unit.memoryRequest(read).data()).containsExactly(1, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * A request answered from the recent translations makes its IOTLB entry the most recently used, as the
     * lookup would. With room for two translations: A and B filled, A and B hit (and are remembered), A answered
     * from the recent translations; then C evicts B, the least recently used, not A.
     */
    @Test
    void repeatedTranslation_keepsItsIotlbEntryMostRecentlyUsed() {
        VtdFixture two = new VtdFixture(VtdConfig.defaults("dmar0").withIotlbEntries(2)).attachSvaDevice();
        List<DmaRequest> reads = new ArrayList<>();
        long[] ptes = new long[3];
        for (int page = 0; page < 3; page++) {
            reads.add(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA + 4096L * page, 8, Access.READ,
                    false, null));
            ptes[page] = two.map(VA + 4096L * page, DATA + 4096L * page, X86Pte.RW | X86Pte.US);
            two.memory.writeLong(DATA + 4096L * page, page + 1);
        }
        two.memory.writeLong(DATA + 4096L * 5, 6);
        for (int page : new int[] {0, 1, 0, 1, 0, 2}) {
            two.unit.memoryRequest(reads.get(page));
        }
        for (long pte : ptes) {
            two.memory.writeLong(pte, DATA + 4096L * 5 | X86Pte.RW | X86Pte.US | X86Pte.P);
        }

        assertThat(two.unit.memoryRequest(reads.get(0)).data()[0]).as("A kept").isEqualTo((byte) 1);
        assertThat(two.unit.memoryRequest(reads.get(1)).data()[0]).as("B evicted, walked again").isEqualTo((byte) 6);
    }

    /**
     * The same for the context cache (room for two): requesters A and B filled, hit and remembered, A answered
     * from the recent translations; C then evicts B's context entry, not A's. Both entries are then cleared in
     * memory: A is still served from the cache, B reads its context entry again and faults.
     */
    @Test
    void repeatedTranslation_keepsItsContextEntryMostRecentlyUsed() {
        Machine m = new Machine(true);
        for (int requester : new int[] {0, 1, 0, 1, 0, 2}) {
            m.apply(new Op(0, requester, 0, 0, true));
        }
        m.f.memory.writeLong(m.contexts[0], 0);
        m.f.memory.writeLong(m.contexts[1], 0);

        assertThat(m.apply(new Op(0, 0, 0, 0, true))).as("A kept").startsWith("SUCCESS");
        assertThat(m.apply(new Op(0, 1, 0, 0, true))).as("B evicted").startsWith("UR");
        assertThat(m.f.faultCodes()).containsExactly(0x41);
    }

    /** The same for the PASID cache (room for two) with PASIDs A, B and C of one requester. */
    @Test
    void repeatedTranslation_keepsItsPasidEntryMostRecentlyUsed() {
        Machine m = new Machine(true);
        for (int pasid : new int[] {0, 1, 0, 1, 0, 2}) {
            m.apply(new Op(0, 0, pasid, 0, true));
        }
        m.f.memory.writeLong(m.pasidEntries[0], 0);
        m.f.memory.writeLong(m.pasidEntries[1], 0);

        assertThat(m.apply(new Op(0, 0, 0, 0, true))).as("A kept").startsWith("SUCCESS");
        assertThat(m.apply(new Op(0, 0, 1, 0, true))).as("B evicted").startsWith("UR");
        assertThat(m.f.faultCodes()).containsExactly(0x59);
    }
}
