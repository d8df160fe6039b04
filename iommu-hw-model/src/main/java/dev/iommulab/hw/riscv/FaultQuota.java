package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.MemoryRing;
import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.HashMap;
import java.util.Map;

/**
 * The lab's invented <b>per-device fault quota with coalescing</b> (option {@code fault-quota: N}, N &gt; 0;
 * docs/hardware-models.md "Invented: per-device fault quota"). No RISC-V IOMMU, and no other real IOMMU, has
 * it: the specification's fault queue takes records in arrival order until it is full and then discards every
 * record until software clears {@code fqof} (riscv-iommu "Fault/Event-Queue (FQ)"; reference/iommu-hardware.md
 * §2.4.2, §3.1), so one device's fault storm hides every other device's faults.
 *
 * <p>The IOMMU keeps an internal tag per fault-queue slot it wrote: the record's {@code DID} and {@code CAUSE}
 * (software cannot read the tags). A device's <i>pending</i> records are the slots from {@code fqh} (inclusive)
 * to {@code fqt} (exclusive) tagged with its {@code DID}: written and not yet consumed. When a record of
 * device D is due and the queue would take it (on, no error pending, not suppressed by {@code DTF}):
 * <ul>
 *   <li>D has fewer than N pending records: the specification's rule applies unchanged (written at
 *       {@code fqt}, or {@code fqof} set when the queue is full);</li>
 *   <li>otherwise, when one of D's pending records has the same {@code CAUSE}, the fault is <i>coalesced</i>
 *       into the newest such record: the 32-bit custom field of its doubleword 1 (bits 31:0, which the
 *       specification leaves to custom use and this model otherwise writes 0) counts the faults coalesced
 *       into it, saturating at 2^32 - 1. {@code fqt}, {@code fqcsr} and {@code ipsr} do not change;</li>
 *   <li>otherwise the fault is discarded, also without touching {@code fqof}.</li>
 * </ul>
 * So a storming device occupies at most N slots and never sets {@code fqof} by itself; other devices' first
 * faults still find room. The count is updated in memory after the record was written: software that reads a
 * record and only later moves {@code fqh} can miss faults coalesced in between (the count is a lower bound).
 */
final class FaultQuota {

    /** Byte offset of the custom field (doubleword 1, bits 31:0) in a record. */
    static final int COALESCED_OFFSET = 8;

    /** What the quota decided for a record. */
    enum Decision { BELOW_QUOTA, COALESCED, DISCARDED }

    private final int quota;
    /** Slot index to {@code DID << 12 | CAUSE} of the record the IOMMU wrote there. */
    private final Map<Integer, Long> tags = new HashMap<>();
    private int lastSlot = -1;

    FaultQuota(int quota) {
        this.quota = quota;
    }

    /** Forgets every tag: the queue was re-based or re-enabled. */
    void reset() {
        tags.clear();
    }

    /** The record the IOMMU just wrote at {@code slot}. */
    void wrote(int slot, RiscvFaultRecord record) {
        tags.put(slot, tag(record));
    }

    /** The slot the last {@link Decision#COALESCED} decision counted the fault in. */
    int lastSlot() {
        return lastSlot;
    }

    /**
     * Applies the quota to {@code record} against the pending records of {@code q}; on
     * {@link Decision#COALESCED} the count in memory has been incremented.
     */
    Decision apply(MemoryRing q, PhysicalMemory memory, RiscvFaultRecord record) {
        if (quota == 0) {
            return Decision.BELOW_QUOTA;
        }
        int pending = 0;
        int sameCause = -1;
        for (int i = q.head(); i != q.tail(); i = q.next(i)) {
            Long t = tags.get(i);
            if (t == null || t >>> 12 != record.did()) {
                continue;
            }
            pending++;
            if (t == tag(record)) {
                sameCause = i;
            }
        }
        if (pending < quota) {
            return Decision.BELOW_QUOTA;
        }
        if (sameCause < 0) {
            return Decision.DISCARDED;
        }
        long at = q.slotAddress(sameCause) + COALESCED_OFFSET;
        int count = memory.readInt(at);
        if (count != -1) {
            memory.writeInt(at, count + 1);
        }
        lastSlot = sameCause;
        return Decision.COALESCED;
    }

    private static long tag(RiscvFaultRecord record) {
        return (long) (record.did() & 0xffffff) << 12 | record.cause() & 0xfff;
    }
}
