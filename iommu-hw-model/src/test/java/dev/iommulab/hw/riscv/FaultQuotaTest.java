package dev.iommulab.hw.riscv;

import static dev.iommulab.hw.riscv.RiscvFixture.DID;
import static dev.iommulab.hw.riscv.RiscvFixture.PASID;
import static dev.iommulab.hw.riscv.RiscvFixture.VA;
import static dev.iommulab.hw.riscv.RiscvFixture.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.pgtable.Access;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The lab's invented per-device fault quota with coalescing, option {@code fault-quota} ({@link FaultQuota},
 * docs/hardware-models.md): what it changes in the fault queue of riscv-iommu "Fault/Event-Queue (FQ)"
 * (reference/iommu-hardware.md §2.4.2), and that without it the queue is the specification's.
 * Device {@link RiscvFixture#DID} (SVA context) storms with page faults (CAUSE 13); device {@link #OTHER}
 * has no valid device context (CAUSE 258).
 */
class FaultQuotaTest {

    private static final int OTHER = 0x0200;

    private static DmaRequest otherRead(long addr) {
        return new DmaRequest(OTHER, AddressType.UNTRANSLATED, false, 0, addr, 8, Access.READ, false, null);
    }

    private static RiscvFixture quota(int records, int fqEntries) {
        RiscvFixture f = new RiscvFixture(RiscvConfig.defaults("riscv-iommu0").withFaultQuota(records));
        f.attachSva(0);
        f.enableFq(fqEntries, true);
        return f;
    }

    private static void storm(RiscvFixture f, int faults) {
        for (int i = 0; i < faults; i++) {
            assertThat(f.iommu.memoryRequest(read(VA + 0x1000L * i)).status()).isEqualTo(CompletionStatus.UR);
        }
    }

    private static long count(RiscvFixture f, int slot) {
        return RiscvFaultRecord.coalescedCount(f.memory, f.fqBase + (long) slot * RiscvRegs.FQ_ENTRY_SIZE);
    }

    /** Option off (the default, every real model): the storm fills the 7-record queue, sets fqof, B is lost. */
    @Test
    void record_quotaOff_stormOverflowsQueueAndOtherDeviceLost() {
        RiscvFixture f = new RiscvFixture();
        f.attachSva(0);
        f.enableFq(8, true);

        storm(f, 10);
        f.iommu.memoryRequest(otherRead(0x5000));

        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(7);
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isNotZero();
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.faults).noneMatch(HwFault::coalesced);
        assertThat(IntStream.range(0, 7).mapToLong(slot -> count(f, slot))).containsOnly(0L);
    }

    /**
     * Quota 2: the storm takes two slots; its 8 further faults (same DID, same CAUSE) are counted in the
     * custom field of the newest one (doubleword 1, bits 31:0); fqt stays at 2, fqof clear, and B's fault is
     * recorded in slot 2. Every request still gets UR.
     */
    @Test
    void record_quotaTwo_stormCoalescedIntoNewestRecordAndOtherDeviceRecorded() {
        RiscvFixture f = quota(2, 8);

        storm(f, 10);
        assertThat(f.iommu.memoryRequest(otherRead(0x5000)).status()).isEqualTo(CompletionStatus.UR);

        assertThat(f.fqRecords()).extracting(RiscvFaultRecord::did, RiscvFaultRecord::cause, RiscvFaultRecord::iotval)
                .containsExactly(tuple(DID, RiscvCause.READ_PAGE_FAULT, VA), tuple(DID, RiscvCause.READ_PAGE_FAULT,
                        VA + 0x1000), tuple(OTHER, RiscvCause.DDT_NOT_VALID, 0x5000L));
        assertThat(count(f, 0)).isZero();
        assertThat(count(f, 1)).isEqualTo(8);
        assertThat(count(f, 2)).isZero();
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isZero();
        assertThat(f.faults).filteredOn(HwFault::coalesced).hasSize(8).noneMatch(HwFault::recorded);
        assertThat(f.lastFault().recorded()).isTrue();
    }

    /**
     * At its quota, a device's fault of a cause none of its pending records has is discarded (no record, no
     * count) and fqof stays clear: the quota never turns one device's faults into an overflow.
     */
    @Test
    void record_quotaReachedWithOtherCause_discardedWithoutFqof() {
        RiscvFixture f = quota(1, 8);
        storm(f, 1);

        f.iommu.memoryRequest(new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID + 1, VA, 8, Access.READ, false,
                null));

        assertThat(f.lastFault().vendorCode()).isEqualTo(RiscvCause.PDT_NOT_VALID);
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.lastFault().coalesced()).isFalse();
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(1);
        assertThat(count(f, 0)).isZero();
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isZero();
    }

    /** Once software consumed the device's records (fqh moved past them) the device is below its quota again. */
    @Test
    void record_afterSoftwareConsumed_deviceRecordedAgain() {
        RiscvFixture f = quota(1, 8);
        storm(f, 3);
        f.iommu.writeReg(RiscvRegs.FQH, 1);

        f.iommu.memoryRequest(read(VA + 0x10_0000));

        assertThat(f.lastFault().recorded()).isTrue();
        assertThat(f.fqRecords()).singleElement().extracting(RiscvFaultRecord::iotval).isEqualTo(VA + 0x10_0000);
        assertThat(count(f, 0)).isEqualTo(2);
    }

    /** The quota does not change the overflow rule: devices within their quotas that fill the queue set fqof. */
    @Test
    void record_queueFullWithinQuota_fqofSetAsWithoutOption() {
        RiscvFixture f = quota(8, 4);

        storm(f, 4);

        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(3);
        assertThat(f.reg32(RiscvRegs.FQCSR) & RiscvRegs.FQCSR_FQOF).isNotZero();
        assertThat(f.lastFault().recorded()).isFalse();
        assertThat(f.lastFault().coalesced()).isFalse();
    }

    /** The count saturates at 2^32 - 1, whatever software wrote into the field; nothing throws. */
    @Test
    void record_countAtMaximum_saturates() {
        RiscvFixture f = quota(1, 8);
        storm(f, 1);
        f.memory.writeInt(f.fqBase + FaultQuota.COALESCED_OFFSET, -1);

        storm(f, 2);

        assertThat(count(f, 0)).isEqualTo(0xffff_ffffL);
        assertThat(f.faults).filteredOn(HwFault::coalesced).hasSize(2);
    }

    /** Re-enabling the queue resets fqt and forgets the tags: the device starts with its full quota. */
    @Test
    void record_queueReenabled_quotaStartsAfresh() {
        RiscvFixture f = quota(1, 8);
        storm(f, 2);
        f.iommu.writeReg(RiscvRegs.FQCSR, 0);
        f.iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE);

        f.iommu.memoryRequest(read(VA + 0x20_0000));

        assertThat(f.lastFault().recorded()).isTrue();
        assertThat(f.reg32(RiscvRegs.FQT)).isEqualTo(1);
    }
}
