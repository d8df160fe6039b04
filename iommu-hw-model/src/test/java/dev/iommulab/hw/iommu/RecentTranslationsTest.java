package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Recent translations in front of a device cache, a process cache and an IOTLB: a result is recorded only after
 * hits in all the caches the request used, and given back only while none of the three changed.
 */
class RecentTranslationsTest {

    private static final long ROOT = 0x1000;
    private static final long PAGE = 0x7000;

    private final LongLruCache<String> devices = new LongLruCache<>(4);
    private final LongLruCache<String> processes = new LongLruCache<>(4);
    private final Iotlb<String> iotlb = new Iotlb<>(4, 4096);
    private final RecentTranslations<String, String> recent = new RecentTranslations<>(8, devices, processes, iotlb);

    @BeforeEach
    void fill() {
        devices.put(1, "device 1");
        processes.put(1, "process 1");
        iotlb.fill(1, PAGE, 4096, "page");
    }

    /** The request "r" handled through hits in the caches it uses, its result recorded. */
    private long handle(boolean usedProcesses) {
        long epoch = recent.epoch();
        devices.get(1);
        if (usedProcesses) {
            processes.get(1);
        }
        iotlb.lookup(1, PAGE);
        recent.record(7, "r", ROOT, epoch, usedProcesses, "result");
        return epoch;
    }

    @Test
    void lookup_sameRequestRootAndCaches_recordedResult() {
        handle(true);

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isEqualTo("result");
    }

    @Test
    void lookup_otherRequestOrRoot_null() {
        handle(true);

        assertThat(recent.lookup(7, "other", ROOT, recent.epoch())).isNull();
        assertThat(recent.lookup(7, "r", ROOT + 0x1000, recent.epoch())).isNull();
    }

    @Test
    void lookup_afterAFillOfAnyCache_null() {
        handle(true);
        devices.put(2, "device 2");
        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).as("device cache filled").isNull();

        handle(true);
        processes.put(1, "process 1, new value");
        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).as("process entry replaced").isNull();

        handle(true);
        iotlb.fill(2, PAGE, 4096, "other tag");
        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).as("IOTLB filled").isNull();
    }

    @Test
    void lookup_afterAnInvalidationThatDropsAnEntry_null() {
        handle(true);

        iotlb.invalidate((tag, e) -> tag == 1);

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isNull();
    }

    @Test
    void lookup_afterAnInvalidationThatDropsNothing_recordedResult() {
        handle(true);

        assertThat(iotlb.invalidate((tag, e) -> tag == 2)).isZero();
        assertThat(processes.removeIf((tag, e) -> tag == 2)).isZero();

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isEqualTo("result");
    }

    @Test
    void record_afterAMissInAUsedCache_ignored() {
        long epoch = recent.epoch();
        devices.get(1);
        processes.get(9);
        iotlb.lookup(1, PAGE);

        recent.record(7, "r", ROOT, epoch, true, "result");

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isNull();
    }

    @Test
    void record_processCacheNotUsed_recordedWhateverItsLastLookup() {
        processes.get(9);

        handle(false);

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isEqualTo("result");
    }

    @Test
    void record_cachesChangedWhileHandling_ignored() {
        long epoch = recent.epoch();
        devices.get(1);
        processes.get(1);
        iotlb.lookup(1, PAGE);
        iotlb.fill(3, PAGE, 4096, "filled meanwhile");

        recent.record(7, "r", ROOT, epoch, true, "result");

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isNull();
    }

    @Test
    void lookup_recordedResult_itsEntriesBecomeMostRecentlyUsed() {
        handle(true);
        for (int tag = 2; tag <= 4; tag++) {
            devices.put(tag, "device " + tag);
        }
        handle(true);
        devices.get(2);
        devices.get(3);
        devices.get(4);

        assertThat(recent.lookup(7, "r", ROOT, recent.epoch())).isEqualTo("result");
        devices.put(5, "device 5");

        assertThat(devices.get(2)).as("least recently used once 1 was recalled").isNull();
        assertThat(devices.get(1)).isEqualTo("device 1");
    }

    @Test
    void lookup_noEntries_nothingKept() {
        RecentTranslations<String, String> none = new RecentTranslations<>(0, devices, processes, iotlb);
        long epoch = none.epoch();
        devices.get(1);
        processes.get(1);
        iotlb.lookup(1, PAGE);

        none.record(7, "r", ROOT, epoch, true, "result");

        assertThat(none.lookup(7, "r", ROOT, none.epoch())).isNull();
    }

    @Test
    void constructor_entriesNotAPowerOfTwo_refused() {
        assertThatThrownBy(() -> new RecentTranslations<>(3, devices, processes, iotlb))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
