package dev.iommulab.testkit.hw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The contract every IOMMU model must pass (reference/iommu-hardware.md §1, §3, §5). Subclass it once
 * per model and return a fresh {@link ModelHarness} from {@link #createHarness()}; tests for capabilities
 * the model lacks are skipped. Each test checks the three outputs of a transaction apart, as §5 asks:
 * the response to the device, the record (or its loss), and what software can see.
 */
public abstract class IommuModelContract {

    /** A page of IOVA space (inside the lowest GiB, which every model translates) and two physical pages. */
    protected static final long IOVA = 0x1000_0000L;
    protected static final long PA = 0x0800_0000L;
    protected static final long PA_OTHER = 0x0900_0000L;

    protected ModelHarness hw;
    private int pasid;

    /** A fresh machine with the model under test. */
    protected abstract ModelHarness createHarness();

    @BeforeEach
    final void setUpHarness() {
        hw = createHarness();
        pasid = hw.capabilities().contains(ModelCapability.PASID) ? 1 : -1;
        hw.attach(0, pasid);
        hw.attach(1, pasid);
    }

    private DmaCompletion write(int device, long iova, byte[] data) {
        return hw.iommu().memoryRequest(new DmaRequest(hw.rid(device), AddressType.UNTRANSLATED, pasid >= 0,
                Math.max(pasid, 0), iova, data.length, Access.WRITE, false, data));
    }

    private DmaCompletion read(int device, long iova, int length) {
        return hw.iommu().memoryRequest(new DmaRequest(hw.rid(device), AddressType.UNTRANSLATED, pasid >= 0,
                Math.max(pasid, 0), iova, length, Access.READ, false, null));
    }

    private static byte[] pattern(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (i * 31 + seed);
        }
        return data;
    }

    /** A mapped page is translated: the write lands at the physical page, the read returns it. */
    @Test
    void translate_mappedPage_dmaReachesMemory() {
        hw.map(0, pasid, IOVA, PA, Rights.READ_WRITE);
        byte[] data = pattern(64, 7);

        DmaCompletion w = write(0, IOVA + 0x100, data);
        DmaCompletion r = read(0, IOVA + 0x100, 64);

        assertThat(w.ok()).isTrue();
        assertThat(hw.memory().read(PA + 0x100, 64)).isEqualTo(data);
        assertThat(r.data()).isEqualTo(data);
        assertThat(hw.faults()).isEmpty();
    }

    /**
     * §1.2 (and §6 item 47 at the IOMMU): a faulting write is blocked, memory is unchanged, and the fault is
     * detected. The page was mapped to {@code PA} and written (so a model may have cached the translation, dirty
     * state included) before it was unmapped and invalidated, so {@code PA} is where a write that got through would
     * land, and it must keep the first write's bytes.
     */
    @Test
    @DisplayName("iommu-hardware §1.2, §6 item 47: a write to an unmapped page is blocked, its old page unchanged")
    void translate_unmappedPage_blockedWithTranslationFault() {
        byte[] before = pattern(16, 0x40);
        hw.map(0, pasid, IOVA, PA, Rights.READ_WRITE);
        assertThat(write(0, IOVA, before).ok()).as("mapped: the write reaches PA").isTrue();
        hw.unmap(0, pasid, IOVA);
        hw.invalidate(0, pasid, IOVA);

        DmaCompletion w = write(0, IOVA, pattern(16, 1));

        assertThat(w.ok()).isFalse();
        assertThat(hw.memory().read(PA, 16)).as("the page IOVA mapped before").isEqualTo(before);
        assertThat(hw.faults()).singleElement().satisfies(f -> {
            assertThat(f.reason()).isEqualTo(HwFaultReason.TRANSLATION_NOT_PRESENT);
            assertThat(f.rid()).isEqualTo(hw.rid(0));
            assertThat(f.access()).isEqualTo(Access.WRITE);
            assertThat(f.addr() & ~0xfffL).isEqualTo(IOVA);
        });
    }

    /** §3.4: a write to a read-only page is a write-permission fault, kept apart from not-present. */
    @Test
    void translate_writeToReadOnlyPage_blockedWithWritePermissionFault() {
        hw.map(0, pasid, IOVA, PA, Rights.READ);

        assertThat(read(0, IOVA, 8).ok()).isTrue();
        assertThat(write(0, IOVA, pattern(8, 2)).ok()).isFalse();

        assertThat(hw.faults()).extracting(HwFault::reason).containsExactly(HwFaultReason.PERMISSION_WRITE);
        assertThat(hw.memory().read(PA, 8)).containsOnly(0);
    }

    /** §3.4: with its device context gone, every request of the device is blocked with a context fault. */
    @Test
    void translate_deviceContextNotPresent_blockedWithContextFault() {
        hw.map(0, pasid, IOVA, PA, Rights.READ_WRITE);
        hw.breakDeviceContext(0);
        hw.invalidate(0, pasid, IOVA);

        assertThat(read(0, IOVA, 8).ok()).isFalse();

        assertThat(hw.faults()).extracting(HwFault::reason).containsExactly(HwFaultReason.DEVICE_CTX_NOT_PRESENT);
    }

    /** §1.3: ATS for a page that is not present answers Success with R = W = 0 and records nothing. */
    @Test
    void ats_notPresent_successWithoutRightsAndNoFault() {
        assumeTrue(hw.capabilities().contains(ModelCapability.ATS));

        AtsCompletion c = hw.iommu().translationRequest(new AtsTranslationRequest(hw.rid(0), pasid >= 0,
                Math.max(pasid, 0), IOVA, false, false, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isFalse();
        assertThat(c.write()).isFalse();
        assertThat(hw.faults()).isEmpty();
    }

    /** §1.3: ATS grants what the tables allow: a read-only page gives R = 1, W = 0 to a write request. */
    @Test
    void ats_readOnlyPage_partialRights() {
        assumeTrue(hw.capabilities().contains(ModelCapability.ATS));
        hw.map(0, pasid, IOVA, PA, Rights.READ);

        AtsCompletion c = hw.iommu().translationRequest(new AtsTranslationRequest(hw.rid(0), pasid >= 0,
                Math.max(pasid, 0), IOVA, false, false, false));

        assertThat(c.status()).isEqualTo(CompletionStatus.SUCCESS);
        assertThat(c.read()).isTrue();
        assertThat(c.write()).isFalse();
        assertThat(c.translatedAddr()).isEqualTo(PA);
    }

    /**
     * §1.2, §3.1: faults of two devices overflow the log; from then on faults are detected but not
     * recorded while every faulting DMA is still blocked; after software drains the log and clears the
     * overflow, faults are recorded again.
     */
    @Test
    void faultLog_overflow_laterFaultsUnrecordedButStillBlocked() {
        assumeTrue(hw.capabilities().contains(ModelCapability.FAULT_LOG));
        int attempts = hw.faultLogCapacity() + 2;
        int firstLost = -1;
        for (int i = 0; i < attempts; i++) {
            assertThat(write(i % 2, IOVA + 0x1000L * i, pattern(8, i)).ok()).isFalse();
            if (firstLost < 0 && !last().recorded()) {
                firstLost = i;
            }
        }
        assertThat(firstLost).as("a fault lost to overflow within capacity + 2 faults").isNotNegative();
        assertThat(write(1, IOVA + 0x80_0000L, pattern(8, 9)).ok()).isFalse();
        assertThat(last().recorded()).isFalse();

        hw.acknowledgeFaults();
        assertThat(write(1, IOVA + 0x90_0000L, pattern(8, 10)).ok()).isFalse();
        assertThat(last().recorded()).isTrue();
        assertThat(hw.faults()).hasSize(attempts + 2);
    }

    private HwFault last() {
        List<HwFault> faults = hw.faults();
        return faults.get(faults.size() - 1);
    }

    private PageRequestMessage pr(int device, int prgi, boolean last) {
        return new PageRequestMessage(hw.rid(device), pasid >= 0, Math.max(pasid, 0), false, false, true, false, last,
                prgi, IOVA + 0x1000L * prgi);
    }

    /** §1.4: queued page requests reach software in order, nothing is answered by the hardware. */
    @Test
    void pageRequest_queueHasRoom_queuedForSoftwareInOrder() {
        assumeTrue(hw.capabilities().contains(ModelCapability.PAGE_REQUESTS));
        hw.enablePageRequests(0, pasid);

        hw.iommu().pageRequest(pr(0, 3, false));
        hw.iommu().pageRequest(pr(0, 3, true));
        hw.loop().runUntilIdle();

        assertThat(hw.drainPageRequests()).extracting(PageRequestMessage::prgi, PageRequestMessage::last)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(3, false),
                        org.assertj.core.groups.Tuple.tuple(3, true));
        assertThat(hw.prgResponses(0)).isEmpty();
    }

    /**
     * §3.1 and §6 scenarios 8, 22, 32: with the queue full, an LPIG request is answered Success by the
     * hardware itself (the device will retry) and a non-LPIG request is dropped without a response.
     */
    @Test
    void pageRequest_queueFull_lpigAutoSuccessAndNonLastDropped() {
        assumeTrue(hw.capabilities().contains(ModelCapability.PAGE_REQUESTS));
        int capacity = hw.enablePageRequests(0, pasid);
        for (int i = 0; i < capacity; i++) {
            hw.iommu().pageRequest(pr(0, i % 500, true));
        }

        hw.iommu().pageRequest(pr(0, 501, true));
        hw.iommu().pageRequest(pr(0, 502, false));
        hw.loop().runUntilIdle();

        assertThat(hw.prgResponses(0)).singleElement().satisfies(r -> {
            assertThat(r.prgi()).isEqualTo(501);
            assertThat(r.code()).isEqualTo(PrgResponseCode.SUCCESS);
        });
        assertThat(hw.drainPageRequests()).hasSize(capacity);
    }

    /**
     * §5 and issue "invalidation staleness": a cached translation is used after the tables change, until
     * the model's invalidation for that page runs.
     */
    @Test
    void invalidation_tableChanged_staleTranslationUsedUntilInvalidated() {
        assumeTrue(hw.capabilities().contains(ModelCapability.TRANSLATION_CACHE));
        hw.map(0, pasid, IOVA, PA, Rights.READ_WRITE);
        // a write primes the cache: an entry cached by a read may lack the dirty state a write needs,
        // and a model may walk again to set it (VT-d first stage does)
        assertThat(write(0, IOVA, pattern(8, 2)).ok()).isTrue();

        hw.unmap(0, pasid, IOVA);
        hw.map(0, pasid, IOVA, PA_OTHER, Rights.READ_WRITE);
        byte[] stale = pattern(8, 3);
        assertThat(write(0, IOVA, stale).ok()).isTrue();
        hw.invalidate(0, pasid, IOVA);
        byte[] fresh = pattern(8, 4);
        assertThat(write(0, IOVA, fresh).ok()).isTrue();

        assertThat(hw.memory().read(PA, 8)).isEqualTo(stale);
        assertThat(hw.memory().read(PA_OTHER, 8)).isEqualTo(fresh);
    }
}
