package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.MemoryRing;
import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.iommu.QueueRecord;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The registers of a queue the IOMMU writes and software reads, the fault queue and the page-request queue
 * (riscv-iommu "In-memory queue interface"; registers {@code fqb/fqh/fqt/fqcsr} and {@code pqb/pqh/pqt/pqcsr},
 * whose CSR bits sit at the same positions): the ring in memory with its overflow bit ({@link MemoryRing}),
 * the memory-fault bit, enable/on, and the interrupt request to {@code ipsr}.
 *
 * <p>Enabling resets the tail and clears both error bits; the error bits are RW1C; enabling the interrupt
 * while an error bit is set asks for the interrupt (RV-I98). A record write that faults sets the memory-fault
 * bit. Each written record, overflow and write fault asks for the interrupt.
 */
final class ProducerQueue {

    /** {@code fqen}/{@code pqen}: the CSR bits are the same in {@code fqcsr} and {@code pqcsr}. */
    static final int EN = RiscvRegs.FQCSR_FQEN;
    static final int IE = RiscvRegs.FQCSR_FIE;
    static final int MF = RiscvRegs.FQCSR_FQMF;
    static final int OF = RiscvRegs.FQCSR_FQOF;
    static final int ON = RiscvRegs.FQCSR_FQON;

    private final MemoryRing ring;
    private final InterruptPending ipsr;
    private final int ipsrBit;
    private final int baseReg;
    private final int csrReg;
    private final Runnable onRestart;
    private long qb;
    private int csr;

    /**
     * @param baseReg   offset of the base register; head and tail follow at +8 and +12
     * @param onRestart runs when software re-bases or enables the queue (tags kept per slot are stale)
     */
    ProducerQueue(PhysicalMemory memory, OverflowStyle style, int entrySize, InterruptPending ipsr, int ipsrBit,
                  int baseReg, int csrReg, Runnable onRestart) {
        this.ring = new MemoryRing(memory, style, entrySize);
        this.ipsr = ipsr;
        this.ipsrBit = ipsrBit;
        this.baseReg = baseReg;
        this.csrReg = csrReg;
        this.onRestart = onRestart;
        this.qb = RiscvRegs.writeQueueBase(ring, 0);
        ipsr.setLevelCondition(ipsrBit, () -> has(IE) && has(OF | MF) ? 1 : 0);
    }

    MemoryRing ring() {
        return ring;
    }

    /** The CSR: the stored bits and the overflow bit from the ring. */
    private int csr() {
        return csr | (ring.overflowPending() ? OF : 0);
    }

    boolean has(int bits) {
        return (csr() & bits) != 0;
    }

    /** On, and neither error bit set: a record may be written. */
    boolean accepting() {
        return has(EN) && has(ON) && !has(MF | OF);
    }

    long readReg(int offset) {
        if (offset == baseReg) {
            return qb;
        }
        if (offset == baseReg + 8) {
            return ring.head();
        }
        if (offset == baseReg + 12) {
            return ring.tail();
        }
        return offset == csrReg ? csr() : 0;
    }

    void writeReg(int offset, long value) {
        if (offset == baseReg) {
            qb = RiscvRegs.writeQueueBase(ring, value);
            ring.setHead(ring.head());
            onRestart.run();
        } else if (offset == baseReg + 8) {
            ring.setHead(value);
        } else if (offset == csrReg) {
            writeCsr((int) value);
        }
    }

    private void writeCsr(int value) {
        boolean ieWasSet = has(IE);
        csr &= ~(value & MF);
        if ((value & OF) != 0) {
            ring.acknowledgeOverflow();
        }
        boolean enable = (value & EN) != 0;
        if (enable && !has(EN)) {
            ring.setTail(0);
            ring.acknowledgeOverflow();
            onRestart.run();
            csr &= ~MF;
            csr |= EN | ON;
        } else if (!enable) {
            csr &= ~(EN | ON);
        }
        csr = csr & ~IE | value & IE;
        if (!ieWasSet && has(IE) && has(MF | OF)) {
            requestInterrupt(); // RV-I98: enabling the interrupt with an error bit pending signals it
        }
    }

    /** Writes {@code record} at the tail, or loses it to overflow or a write fault (setting the memory-fault bit). */
    MemoryRing.Push push(QueueRecord record) {
        MemoryRing.Push push = ring.push(record);
        switch (push) {
            case WRITE_FAULT -> {
                csr |= MF;
                requestInterrupt();
            }
            case WRITTEN, OVERFLOWED -> requestInterrupt();
            default -> {
            }
        }
        return push;
    }

    private void requestInterrupt() {
        ipsr.request(ipsrBit, has(IE));
    }
}
