package dev.iommulab.hw.riscv;

/**
 * Base, head and tail of one in-memory ring (riscv-iommu "In-memory queue interface": a queue is empty
 * when head == tail and full when tail == head - 1, so it holds at most N - 1 entries; registers
 * {@code cqb/fqb/pqb}, {@code *h}, {@code *t}). Writes to the base clear the index bits at and above
 * LOG2SZ of the register software writes; index writes keep only the low LOG2SZ bits (WARL).
 */
final class QueueRegs {

    private final int entrySize;
    long base;
    int head;
    int tail;

    QueueRegs(int entrySize) {
        this.entrySize = entrySize;
    }

    int entries() {
        return 1 << ((base & RiscvRegs.QB_LOG2SZ_MASK) + 1);
    }

    int mask() {
        return entries() - 1;
    }

    long baseAddress() {
        return RiscvRegs.ppnAddress(base);
    }

    long slotAddress(int index) {
        return baseAddress() + (long) index * entrySize;
    }

    /** WARL: LOG2SZ-1 and PPN only; a LOG2SZ above 32 entries' worth of index is clamped. */
    void writeBase(long value) {
        long log2 = Math.min(value & RiscvRegs.QB_LOG2SZ_MASK, 29);
        base = value & RiscvRegs.PPN_FIELD | log2;
    }

    int masked(long index) {
        return (int) index & mask();
    }

    boolean isEmpty() {
        return head == tail;
    }

    /** Full: tail == head - 1 (modulo the size). */
    boolean isFull() {
        return ((tail + 1) & mask()) == head;
    }

    int next(int index) {
        return (index + 1) & mask();
    }
}
