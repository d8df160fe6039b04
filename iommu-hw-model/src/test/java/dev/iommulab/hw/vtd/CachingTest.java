package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.DOMAIN_ID;
import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static dev.iommulab.hw.vtd.VtdFixture.legacyHi;
import static dev.iommulab.hw.vtd.VtdFixture.legacyLo;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import org.junit.jupiter.api.Test;

/**
 * Caches that really cache: the IOTLB (DID, PASID, page; LRU of {@code iotlb-entries}), the PASID cache
 * and the context cache are filled on walks and used afterwards, so a changed PTE, PASID entry or
 * context entry keeps its old meaning until the matching invalidation descriptor runs (VT-d spec §6.1,
 * §6.5; reference/iommu-hardware.md §2.1.5). ATS translation requests use the same caches.
 */
class CachingTest {

    private static final long VA = 0x0000_7f00_0000_0000L;
    private static final long PA1 = 0x0080_0000L;
    private static final long PA2 = 0x0090_0000L;

    private final VtdFixture f = new VtdFixture().attachSvaDevice();

    CachingTest() {
        f.enableInvalidationQueue();
        f.memory.write(PA1, new byte[] {1, 1, 1, 1});
        f.memory.write(PA2, new byte[] {2, 2, 2, 2});
    }

    private static DmaCompletion read(VtdFixture fx, int pasid, long addr) {
        return fx.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, pasid, addr, 4, Access.READ,
                false, null));
    }

    private DmaCompletion read(long addr) {
        return read(f, PASID, addr);
    }

    private DmaCompletion write(long addr) {
        return f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, addr, 4, Access.WRITE,
                false, WriteData.of(new byte[] {9, 9, 9, 9})));
    }

    private void invalidate(QiDescriptor d) {
        f.submit(d);
        f.settle();
    }

    /** Remaps a present 4 KiB first-stage PTE in memory, as software would before invalidating. */
    private void repoint(long pte, long pa, long flags) {
        f.memory.writeLong(pte, pa | flags | X86Pte.P);
    }

    @Test
    void iotlb_ptePointedElsewhere_oldTranslationUsedUntilPasidIotlbInvalidation() {
        long pte = f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        assertThat(read(VA).data()).containsExactly(1, 1, 1, 1);
        repoint(pte, PA2, X86Pte.RW | X86Pte.US);

        assertThat(read(VA).data()).as("stale IOTLB entry").containsExactly(1, 1, 1, 1);

        invalidate(QiDescriptor.pasidIotlbPages(DOMAIN_ID, PASID, VA, 0));
        assertThat(read(VA).data()).containsExactly(2, 2, 2, 2);
    }

    /** A stale writable entry lets a write through that the tables now forbid, until invalidation. */
    @Test
    void iotlb_permissionRemovedInMemory_staleWriteAllowedThenFault0x85() {
        long pte = f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        assertThat(write(VA).ok()).isTrue();
        repoint(pte, PA1, X86Pte.US | X86Pte.A | X86Pte.D);

        assertThat(write(VA).ok()).isTrue();

        invalidate(QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID));
        assertThat(write(VA).ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x85);
    }

    /**
     * A cached entry that does not grant the request is walked again rather than faulting: the read-only
     * entry a read left behind does not block the write after the PTE became writable (copy on write).
     */
    @Test
    void iotlb_cachedReadOnlyEntryAndNowWritablePte_writeWalksAgainAndSucceeds() {
        long pte = f.map(VA, PA1, X86Pte.US);
        read(VA);
        repoint(pte, PA2, X86Pte.RW | X86Pte.US);

        assertThat(write(VA).ok()).isTrue();

        assertThat(f.memory.read(PA2, 4)).containsExactly(9, 9, 9, 9);
        assertThat(f.faults).isEmpty();
    }

    /** CAP.CM = 0: a not-present translation is never cached, so mapping the page needs no invalidation. */
    @Test
    void iotlb_notPresentPage_notCachedMappingVisibleAtOnce() {
        assertThat(read(VA).ok()).isFalse();
        f.map(VA, PA1, X86Pte.RW | X86Pte.US);

        assertThat(read(VA).ok()).isTrue();
    }

    @Test
    void iotlb_capacityOne_leastRecentlyUsedEntryEvicted() {
        VtdFixture one = new VtdFixture(VtdConfig.defaults("dmar0").withIotlbEntries(1)).attachSvaDevice();
        one.memory.write(PA1, new byte[] {1, 1, 1, 1});
        one.memory.write(PA2, new byte[] {2, 2, 2, 2});
        long pteA = one.map(VA, PA1, X86Pte.RW | X86Pte.US);
        long pteB = one.map(VA + 0x1000, PA1, X86Pte.RW | X86Pte.US);
        read(one, PASID, VA);
        read(one, PASID, VA + 0x1000);
        one.memory.writeLong(pteA, PA2 | X86Pte.P | X86Pte.RW | X86Pte.US);
        one.memory.writeLong(pteB, PA2 | X86Pte.P | X86Pte.RW | X86Pte.US);

        assertThat(read(one, PASID, VA).data()).as("evicted: walked again").containsExactly(2, 2, 2, 2);
        assertThat(one.unit.engine().iotlb().size()).isEqualTo(1);
    }

    @Test
    void iotlb_zeroEntries_everyRequestWalks() {
        VtdFixture off = new VtdFixture(VtdConfig.defaults("dmar0").withIotlbEntries(0)).attachSvaDevice();
        off.memory.write(PA2, new byte[] {2, 2, 2, 2});
        long pte = off.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(off, PASID, VA);
        off.memory.writeLong(pte, PA2 | X86Pte.P | X86Pte.RW | X86Pte.US);

        assertThat(read(off, PASID, VA).data()).containsExactly(2, 2, 2, 2);
    }

    /** §1.3 / DESIGN.md §3 step 2: ATS translation requests hit and fill the same IOTLB. */
    @Test
    void translationRequest_usesIotlbFilledByDma() {
        long pte = f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        repoint(pte, PA2, X86Pte.RW | X86Pte.US | X86Pte.A);

        AtsTranslationRequest tr = new AtsTranslationRequest(RID, true, PASID, VA, true, false, false);
        assertThat(f.unit.translationRequest(tr).translatedAddr()).isEqualTo(PA1);

        invalidate(QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID));
        assertThat(f.unit.translationRequest(tr).translatedAddr()).isEqualTo(PA2);
    }

    /** PASID-based IOTLB invalidation is (DID, PASID)-selective: another PASID's entry survives. */
    @Test
    void pasidIotlb_pasidSelective_otherPasidKeepsEntry() {
        int other = PASID + 1;
        f.writePasidEntry(other, VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << 6, f.flRoot);
        long pte = f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        read(f, other, VA);
        repoint(pte, PA2, X86Pte.RW | X86Pte.US);

        invalidate(QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID));

        assertThat(read(VA).data()).containsExactly(2, 2, 2, 2);
        assertThat(read(f, other, VA).data()).containsExactly(1, 1, 1, 1);
    }

    /** IOTLB (type 0x2) domain-selective: every entry of the DID, any PASID; another DID keeps its own. */
    @Test
    void iotlb_domainSelective_dropsOnlyThatDomain() {
        int other = PASID + 1;
        f.writePasidEntry(other, VtdEntries.PRESENT | (long) VtdEntries.PGTT_FIRST_STAGE << 6, DOMAIN_ID + 1, f.flRoot);
        long pte = f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        read(f, other, VA);
        repoint(pte, PA2, X86Pte.RW | X86Pte.US);

        invalidate(QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, DOMAIN_ID, 0, 0, true));

        assertThat(read(VA).data()).containsExactly(2, 2, 2, 2);
        assertThat(read(f, other, VA).data()).containsExactly(1, 1, 1, 1);

        invalidate(QiDescriptor.iotlb(QiDescriptor.IOTLB_GLOBAL, 0, 0, 0, false));
        assertThat(read(f, other, VA).data()).containsExactly(2, 2, 2, 2);
    }

    /** Page-selective IOTLB invalidation with AM = 1 covers two pages of a second-stage PASID, not the third. */
    @Test
    void iotlb_pageSelectiveWithAddressMask_coversTwoPages() {
        long iova = 0x4000_0000L;
        f.writeSecondStagePasidEntry(0);
        long rw = VtdSecondStageTable.R | VtdSecondStageTable.W;
        long[] ptes = new long[3];
        for (int i = 0; i < 3; i++) {
            ptes[i] = f.mapSecondStage(iova + 0x1000L * i, PA1, rw);
            read(iova + 0x1000L * i);
            f.memory.writeLong(ptes[i], PA2 | rw);
        }

        invalidate(QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, DOMAIN_ID, iova, 1, false));

        assertThat(read(iova).data()).containsExactly(2, 2, 2, 2);
        assertThat(read(iova + 0x1000).data()).containsExactly(2, 2, 2, 2);
        assertThat(read(iova + 0x2000).data()).containsExactly(1, 1, 1, 1);
    }

    @Test
    void pasidCache_entryClearedInMemory_oldEntryUsedUntilPasidCacheInvalidation() {
        f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        f.memory.writeLong(f.pasidEntryAddr, 0);
        invalidate(QiDescriptor.pasidIotlbAll(DOMAIN_ID, PASID));

        assertThat(read(VA).ok()).as("PASID entry still cached").isTrue();

        invalidate(QiDescriptor.pasidCache(DOMAIN_ID, PASID));
        assertThat(read(VA).ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x59);
    }

    @Test
    void pasidCache_domainAndGlobalGranularity_dropMatchingEntries() {
        f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        assertThat(f.unit.engine().caches().pasidEntries()).isEqualTo(1);

        invalidate(QiDescriptor.pasidCache(QiDescriptor.PC_DOMAIN, DOMAIN_ID + 1, 0));
        assertThat(f.unit.engine().caches().pasidEntries()).isEqualTo(1);
        invalidate(QiDescriptor.pasidCache(QiDescriptor.PC_DOMAIN, DOMAIN_ID, 0));
        assertThat(f.unit.engine().caches().pasidEntries()).isZero();
        read(VA);
        invalidate(QiDescriptor.pasidCache(QiDescriptor.PC_GLOBAL, 0, 0));
        assertThat(f.unit.engine().caches().pasidEntries()).isZero();
    }

    @Test
    void contextCache_contextClearedInMemory_usedUntilDeviceSelectiveInvalidation() {
        f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);
        f.memory.writeLong(f.contextAddr, 0);

        assertThat(read(VA).ok()).isTrue();

        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_DEVICE, 0, RID, 0));
        assertThat(read(VA).ok()).isFalse();
        assertThat(f.faultCodes()).containsExactly(0x41);
    }

    /** Device-selective with FM = 11b ignores SID bits 2:0: 01:00.0 is covered by an invalidation of 01:00.5. */
    @Test
    void contextCache_functionMask_coversSiblingFunctions() {
        f.map(VA, PA1, X86Pte.RW | X86Pte.US);
        read(VA);

        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_DEVICE, 0, RID | 0x5, 0));
        assertThat(f.unit.engine().caches().contextEntries()).isEqualTo(1);
        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_DEVICE, 0, RID | 0x5, 3));
        assertThat(f.unit.engine().caches().contextEntries()).isZero();
    }

    /** Legacy mode: the context cache is domain-tagged; domain-selective invalidation uses the DID. */
    @Test
    void contextCache_legacyDomainSelective_matchesDid() {
        f.useLegacyMode(RID, legacyLo(f.slRoot, 0), legacyHi());
        f.mapSecondStage(0x1000, PA1, VtdSecondStageTable.R);
        f.unit.memoryRequest(new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, 0x1000, 4, Access.READ, false,
                null));

        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_DOMAIN, DOMAIN_ID + 1, 0, 0));
        assertThat(f.unit.engine().caches().contextEntries()).isEqualTo(1);
        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_DOMAIN, DOMAIN_ID, 0, 0));
        assertThat(f.unit.engine().caches().contextEntries()).isZero();
        invalidate(QiDescriptor.contextCache(QiDescriptor.CC_GLOBAL, 0, 0, 0));
        assertThat(f.faults).isEmpty();
    }

    /** Legacy mode IOTLB entries are tagged by the context's DID: a page-selective invalidation drops them. */
    @Test
    void iotlb_legacySecondLevelEntry_staleUntilPageSelectiveInvalidation() {
        f.useLegacyMode(RID, legacyLo(f.slRoot, 0), legacyHi());
        long pte = f.mapSecondStage(0x1000, PA1, VtdSecondStageTable.R);
        DmaRequest r = new DmaRequest(RID, AddressType.UNTRANSLATED, false, 0, 0x1000, 4, Access.READ, false, null);
        f.unit.memoryRequest(r);
        f.memory.writeLong(pte, PA2 | VtdSecondStageTable.R);

        assertThat(f.unit.memoryRequest(r).data()).containsExactly(1, 1, 1, 1);
        invalidate(QiDescriptor.iotlb(QiDescriptor.IOTLB_PAGE, DOMAIN_ID, 0x1000, 0, false));
        assertThat(f.unit.memoryRequest(r).data()).containsExactly(2, 2, 2, 2);
    }
}
