package dev.iommulab.hw.iommu;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.Objects;

/**
 * A ring of fixed-size records in physical memory with the head and tail indices software sees in the
 * registers, and the overflow rule of one {@link OverflowStyle}. The IOMMU produces at the tail
 * ({@link #push}) and software consumes from the head (fault and page-request logs), or software produces and
 * the IOMMU consumes ({@link #advanceHead}, command queues). Records are written as real bytes at
 * {@code base + (index mod N) × entrySize}; a slot outside memory is reported, never thrown.
 *
 * <p>Indices are register values: plain indices 0..N-1, or with {@link OverflowStyle.Capacity#ALL_ENTRIES}
 * 0..2N-1 where bit log2(N) is the wrap bit. A vendor whose registers hold byte offsets (VT-d PQH/PQT)
 * multiplies by the entry size.
 */
public final class MemoryRing {

    /** What became of a record handed to {@link #push}. */
    public enum Push {
        /** Written at the old tail; the tail moved on. */
        WRITTEN,
        /** The ring was full: the record is lost and the overflow indicator was raised by it. */
        OVERFLOWED,
        /** The ring was full with an overflow already pending (styles that keep writing): lost, nothing changed. */
        LOST_FULL,
        /** An overflow is pending and the style writes nothing until software clears it: lost. */
        LOST_OVERFLOW_PENDING,
        /** The log is stopped until software restarts it (AMD-Vi after an overflow): lost. */
        LOST_STOPPED,
        /** The slot at the tail is outside physical memory: nothing written, the tail did not move. */
        WRITE_FAULT;

        public boolean written() {
            return this == WRITTEN;
        }
    }

    private final PhysicalMemory memory;
    private final OverflowStyle style;
    private final OverflowStyle.Rule rule;
    /** The rule's capacity and indicator as flags: the push path is on the hot path of every page request. */
    private final boolean allEntries;
    private final boolean toggle;
    private final int entrySize;
    private long base;
    private int log2Entries;
    private int slotMask;
    private int indexMask;
    private int head;
    private int tail;
    private boolean overflowFlag;
    private boolean overflowAck;
    private boolean running = true;

    /** A ring of one entry at address 0 until {@link #setBase} places it. */
    public MemoryRing(PhysicalMemory memory, OverflowStyle style, int entrySize) {
        this.memory = Objects.requireNonNull(memory, "memory");
        this.style = Objects.requireNonNull(style, "style");
        this.rule = style.rule();
        this.allEntries = rule.capacity() == OverflowStyle.Capacity.ALL_ENTRIES;
        this.toggle = rule.indicator() == OverflowStyle.Indicator.TOGGLE;
        if (entrySize <= 0) {
            throw new IllegalArgumentException("entrySize must be positive: " + entrySize);
        }
        this.entrySize = entrySize;
        setBase(0, 0);
    }

    /** Places the ring at {@code baseAddress} with 2^{@code log2Entries} entries; head and tail stay as they are. */
    public void setBase(long baseAddress, int log2Entries) {
        if (log2Entries < 0 || log2Entries > 30) {
            throw new IllegalArgumentException("log2Entries must be 0..30: " + log2Entries);
        }
        this.base = baseAddress;
        this.log2Entries = log2Entries;
        this.slotMask = (1 << log2Entries) - 1;
        this.indexMask = allEntries ? (2 << log2Entries) - 1 : slotMask;
    }

    public OverflowStyle style() {
        return style;
    }

    public int entries() {
        return 1 << log2Entries;
    }

    /** The head index register (consumer). */
    public int head() {
        return head;
    }

    /** Software (or reset) moves the head; bits above the index (and its wrap bit) are dropped. */
    public void setHead(long index) {
        head = (int) index & indexMask;
    }

    /** The tail index register (producer). */
    public int tail() {
        return tail;
    }

    /** Software (or reset) moves the tail; bits above the index (and its wrap bit) are dropped. */
    public void setTail(long index) {
        tail = (int) index & indexMask;
    }

    /** The index after {@code index}, with the wrap bit where the style has one. */
    public int next(int index) {
        return (index + 1) & indexMask;
    }

    /** The address of the slot of {@code index}. */
    public long slotAddress(int index) {
        return base + (long) (index & slotMask) * entrySize;
    }

    public boolean isEmpty() {
        return head == tail;
    }

    public boolean isFull() {
        return allEntries ? (head ^ tail) == slotMask + 1 : (tail + 1 & indexMask) == head;
    }

    /** Records between head and tail. */
    public int count() {
        return (tail - head) & indexMask;
    }

    /** The consumer took the record at the head (a command the IOMMU carried out). */
    public void advanceHead() {
        head = next(head);
    }

    /** Whether an overflow is pending: the sticky bit, or {@code OVFLG != OVACKFLG}. */
    public boolean overflowPending() {
        return toggle ? overflowFlag != overflowAck : overflowFlag;
    }

    /** The sticky overflow bit, or the producer's {@code OVFLG}. */
    public boolean overflowFlag() {
        return overflowFlag;
    }

    /** The consumer's {@code OVACKFLG} (toggle style; always false otherwise). */
    public boolean overflowAck() {
        return overflowAck;
    }

    /** Software acknowledges the overflow: clears the sticky bit (W1C), or writes {@code OVACKFLG = OVFLG}. */
    public void acknowledgeOverflow() {
        if (toggle) {
            overflowAck = overflowFlag;
        } else {
            overflowFlag = false;
        }
    }

    /** Software writes the consumer's {@code OVACKFLG} (toggle style), e.g. together with a new head. */
    public void writeOverflowAck(boolean ack) {
        if (!toggle) {
            throw new IllegalStateException(style + " has no OVACKFLG");
        }
        overflowAck = ack;
    }

    /** Whether the log is running: false after an overflow in a style that stops, until {@link #restart}. */
    public boolean running() {
        return running;
    }

    /** Software stops the log (AMD-Vi: {@code EventLogEn} written 0). */
    public void stop() {
        running = false;
    }

    /** Software (re)starts the log (AMD-Vi: {@code EventLogEn} written 1); the overflow bit is not touched. */
    public void restart() {
        running = true;
    }

    /** The IOMMU produces {@code record} at the tail, or loses it as the style says. */
    public Push push(QueueRecord record) {
        if (style == OverflowStyle.COMMAND_QUEUE) {
            throw new IllegalStateException("the IOMMU does not produce into a command queue");
        }
        if (!running) {
            return Push.LOST_STOPPED;
        }
        boolean pending = overflowPending();
        if (pending && !rule.writesWhilePending()) {
            return Push.LOST_OVERFLOW_PENDING;
        }
        if (isFull()) {
            if (pending) {
                return Push.LOST_FULL;
            }
            overflowFlag = !toggle || !overflowFlag;
            if (rule.stopsOnOverflow()) {
                running = false;
            }
            return Push.OVERFLOWED;
        }
        long at = slotAddress(tail);
        if (!memory.contains(at, entrySize)) {
            return Push.WRITE_FAULT;
        }
        record.writeTo(memory, at);
        tail = next(tail);
        return Push.WRITTEN;
    }
}
