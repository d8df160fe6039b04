package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.FaultLogRecord;
import dev.iommulab.hw.iommu.QueueRecord;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A 32-byte fault-queue record (riscv-iommu "Fault/Event-Queue (FQ)", figure "Fault-queue record";
 * reference/iommu-hardware.md §2.4.2, §3.2): doubleword 0 holds {@code CAUSE} 11:0, {@code PID} 31:12,
 * {@code PV} 32, {@code PRIV} 33, {@code TTYP} 39:34, {@code DID} 63:40; doubleword 1 is custom/reserved
 * (written 0); then {@code iotval} and {@code iotval2}.
 *
 * @param iotval  the IOVA, or the PCIe message code for {@link #TTYP_PCIE_MESSAGE}
 * @param iotval2 for guest-page faults: GPA bits 63:2, bit 0 = implicit first-stage access, bit 1 = that
 *                access was a write
 */
public record RiscvFaultRecord(int cause, int pid, boolean pv, boolean priv, int ttyp, int did, long iotval,
                               long iotval2) implements QueueRecord, FaultLogRecord {

    /** TTYP: no inbound transaction. */
    public static final int TTYP_NONE = 0;
    public static final int TTYP_UNTRANSLATED_EXEC = 1;
    public static final int TTYP_UNTRANSLATED_READ = 2;
    public static final int TTYP_UNTRANSLATED_WRITE = 3;
    public static final int TTYP_TRANSLATED_EXEC = 5;
    public static final int TTYP_TRANSLATED_READ = 6;
    public static final int TTYP_TRANSLATED_WRITE = 7;
    public static final int TTYP_ATS_TRANSLATION_REQUEST = 8;
    public static final int TTYP_PCIE_MESSAGE = 9;

    /** PCIe message code of a "Page Request" message, reported in {@code iotval} with TTYP 9. */
    public static final int PAGE_REQUEST_MESSAGE_CODE = 0x04;

    /** iotval2 bit 0: the guest-page fault came from an implicit access for first-stage translation. */
    public static final long IOTVAL2_IMPLICIT = 1L;
    /** iotval2 bit 1: that implicit access was a write (an A/D update). */
    public static final long IOTVAL2_IMPLICIT_WRITE = 2L;

    public long doubleword0() {
        return (cause & 0xfffL) | (pid & 0xfffffL) << 12 | (pv ? 1L << 32 : 0) | (priv ? 1L << 33 : 0)
                | (ttyp & 0x3fL) << 34 | (did & 0xffffffL) << 40;
    }

    public static RiscvFaultRecord readFrom(PhysicalMemory memory, long pa) {
        long dw0 = memory.readLong(pa);
        return new RiscvFaultRecord((int) (dw0 & 0xfff), (int) (dw0 >>> 12 & 0xfffff), (dw0 >>> 32 & 1) != 0,
                (dw0 >>> 33 & 1) != 0, (int) (dw0 >>> 34 & 0x3f), (int) (dw0 >>> 40), memory.readLong(pa + 16),
                memory.readLong(pa + 24));
    }

    /**
     * The number of further faults the lab's invented per-device fault quota coalesced into the record at
     * {@code pa}: the custom field, doubleword 1 bits 31:0 (always 0 without option {@code fault-quota}).
     */
    public static long coalescedCount(PhysicalMemory memory, long pa) {
        return memory.readInt(pa + FaultQuota.COALESCED_OFFSET) & 0xffffffffL;
    }

    @Override
    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, doubleword0());
        memory.writeLong(pa + 8, 0);
        memory.writeLong(pa + 16, iotval);
        memory.writeLong(pa + 24, iotval2);
    }

    @Override
    public int requesterId() {
        return did;
    }

    @Override
    public boolean pasidPresent() {
        return pv;
    }

    @Override
    public int pasid() {
        return pid;
    }

    @Override
    public boolean privileged() {
        return priv;
    }

    /** CAUSE. */
    @Override
    public int reasonCode() {
        return cause;
    }
}
