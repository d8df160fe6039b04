package dev.iommulab.hw.iommu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The in-memory ring and the overflow styles of the IOMMU families (reference/iommu-hardware.md §2.1.3,
 * §2.2.2, §2.2.3, §2.3.2, §2.3.3, §2.4.2, §2.4.3 and the table of §3.1): bytes written at the tail, the
 * capacity rule, the overflow indicator, what is lost, and when logging resumes.
 */
class MemoryRingTest {

    private static final long BASE = 0x4000;
    private static final int ENTRY = 16;
    /** 8 entries. */
    private static final int LOG2 = 3;

    private final PhysicalMemory memory = new PhysicalMemory(1L << 20);

    /** A 16-byte record: the value in both doublewords. */
    private record Rec(long value) implements QueueRecord {
        @Override
        public void writeTo(PhysicalMemory m, long pa) {
            m.writeLong(pa, value);
            m.writeLong(pa + 8, ~value);
        }
    }

    private MemoryRing ring(OverflowStyle style) {
        MemoryRing ring = new MemoryRing(memory, style, ENTRY);
        ring.setBase(BASE, LOG2);
        return ring;
    }

    /** Pushes records 1, 2, ... until the ring is full; returns how many were written. */
    private static int fill(MemoryRing ring) {
        int n = 0;
        while (!ring.isFull()) {
            assertThat(ring.push(new Rec(n + 1))).isEqualTo(MemoryRing.Push.WRITTEN);
            n++;
        }
        return n;
    }

    private long slot(int index) {
        return memory.readLong(BASE + (long) index * ENTRY);
    }

    private static EnumSet<OverflowStyle> logs() {
        return EnumSet.complementOf(EnumSet.of(OverflowStyle.COMMAND_QUEUE, OverflowStyle.VTD_FAULT_RECORDING));
    }

    @ParameterizedTest
    @EnumSource(value = OverflowStyle.class, names = {"COMMAND_QUEUE", "VTD_FAULT_RECORDING"},
            mode = EnumSource.Mode.EXCLUDE)
    void push_emptyRing_recordBytesAtTailAndTailAdvances(OverflowStyle style) {
        MemoryRing ring = ring(style);

        assertThat(ring.push(new Rec(0x1234))).isEqualTo(MemoryRing.Push.WRITTEN);
        ring.push(new Rec(0x5678));

        assertThat(memory.readLong(BASE)).isEqualTo(0x1234);
        assertThat(memory.readLong(BASE + 8)).isEqualTo(~0x1234L);
        assertThat(memory.readLong(BASE + ENTRY)).isEqualTo(0x5678);
        assertThat(ring.head()).isZero();
        assertThat(ring.tail()).isEqualTo(2);
        assertThat(ring.count()).isEqualTo(2);
        assertThat(ring.overflowPending()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = OverflowStyle.class, names = {"COMMAND_QUEUE", "VTD_FAULT_RECORDING"},
            mode = EnumSource.Mode.EXCLUDE)
    void push_fullRing_recordLostOverflowRaisedTailUnchanged(OverflowStyle style) {
        MemoryRing ring = ring(style);
        int capacity = fill(ring);
        int tail = ring.tail();

        MemoryRing.Push push = ring.push(new Rec(0xdead));

        assertThat(capacity).isEqualTo(style.rule().capacity() == OverflowStyle.Capacity.ALL_ENTRIES ? 8 : 7);
        assertThat(push).isEqualTo(MemoryRing.Push.OVERFLOWED);
        assertThat(ring.overflowPending()).isTrue();
        assertThat(ring.overflowFlag()).isTrue();
        assertThat(ring.tail()).isEqualTo(tail);
        for (int i = 0; i < 8; i++) {
            assertThat(slot(i)).as("slot %d", i).isEqualTo(i < capacity ? i + 1 : 0);
        }
        assertThat(ring.running()).isEqualTo(!style.rule().stopsOnOverflow());
    }

    @Test
    void push_oneSlotShortStyles_fullWhenTailOneBehindHead() {
        MemoryRing ring = ring(OverflowStyle.RISCV_FAULT_QUEUE);
        ring.setHead(5);
        ring.setTail(5);
        fill(ring);

        assertThat(ring.tail()).isEqualTo(4);
        assertThat(slot(7)).isEqualTo(3);
        assertThat(slot(0)).as("wrapped to slot 0").isEqualTo(4);
        assertThat(slot(4)).as("the slot before head stays empty").isZero();
    }

    @Test
    void push_wrapBitStyle_indicesCarryWrapBit() {
        MemoryRing ring = ring(OverflowStyle.SMMUV3_EVENT_QUEUE);
        fill(ring);

        assertThat(ring.tail()).as("WR 0 with the wrap bit").isEqualTo(8);
        assertThat(ring.isFull()).isTrue();
        ring.setHead(8);
        assertThat(ring.isEmpty()).isTrue();
        ring.push(new Rec(9));
        assertThat(ring.tail()).isEqualTo(9);
        assertThat(slot(0)).isEqualTo(9);
    }

    @ParameterizedTest
    @EnumSource(value = OverflowStyle.class, names = {"VTD_PAGE_REQUEST_QUEUE", "RISCV_FAULT_QUEUE",
        "RISCV_PAGE_REQUEST_QUEUE"})
    void push_stickyStyleOverflowPending_nothingWrittenUntilSoftwareClears(OverflowStyle style) {
        MemoryRing ring = ring(style);
        fill(ring);
        ring.push(new Rec(0xdead));
        ring.setHead(3); // software consumed three records

        assertThat(ring.push(new Rec(0xbeef))).isEqualTo(MemoryRing.Push.LOST_OVERFLOW_PENDING);
        assertThat(slot(7)).isZero();
        assertThat(ring.tail()).isEqualTo(7);

        ring.acknowledgeOverflow();
        assertThat(ring.overflowPending()).isFalse();
        assertThat(ring.push(new Rec(0xf00d))).isEqualTo(MemoryRing.Push.WRITTEN);
        assertThat(slot(7)).isEqualTo(0xf00d);
    }

    @Test
    void push_smmuEventQueueOverflowPending_keepsWritingWhenRoomAndLosesSilentlyWhenFull() {
        MemoryRing ring = ring(OverflowStyle.SMMUV3_EVENT_QUEUE);
        fill(ring);
        assertThat(ring.push(new Rec(0xdead))).isEqualTo(MemoryRing.Push.OVERFLOWED);
        assertThat(ring.overflowFlag()).as("OVFLG toggled").isTrue();
        assertThat(ring.overflowAck()).as("OVACKFLG").isFalse();

        ring.setHead(2);
        assertThat(ring.push(new Rec(0xa))).isEqualTo(MemoryRing.Push.WRITTEN);
        assertThat(ring.push(new Rec(0xb))).isEqualTo(MemoryRing.Push.WRITTEN);
        assertThat(ring.push(new Rec(0xc))).as("full again, overflow still pending").isEqualTo(MemoryRing.Push.LOST_FULL);

        assertThat(slot(0)).isEqualTo(0xa);
        assertThat(slot(1)).isEqualTo(0xb);
        assertThat(ring.overflowFlag()).as("not toggled twice").isTrue();
        assertThat(ring.overflowPending()).isTrue();
    }

    @Test
    void push_smmuSecondOverflowAfterAck_togglesOvflgBack() {
        MemoryRing ring = ring(OverflowStyle.SMMUV3_EVENT_QUEUE);
        fill(ring);
        ring.push(new Rec(0xdead));
        ring.writeOverflowAck(ring.overflowFlag());
        assertThat(ring.overflowPending()).isFalse();

        assertThat(ring.push(new Rec(0xbeef))).isEqualTo(MemoryRing.Push.OVERFLOWED);

        assertThat(ring.overflowFlag()).isFalse();
        assertThat(ring.overflowAck()).isTrue();
        assertThat(ring.overflowPending()).isTrue();
    }

    @Test
    void push_smmuPriQueueOverflowPending_nothingWrittenUntilAcknowledged() {
        MemoryRing ring = ring(OverflowStyle.SMMUV3_PRI_QUEUE);
        fill(ring);
        ring.push(new Rec(0xdead));
        ring.setHead(8 + 4);

        assertThat(ring.push(new Rec(0xbeef))).isEqualTo(MemoryRing.Push.LOST_OVERFLOW_PENDING);
        assertThat(slot(0)).isEqualTo(1);

        ring.writeOverflowAck(true);
        assertThat(ring.push(new Rec(0xf00d))).isEqualTo(MemoryRing.Push.WRITTEN);
        assertThat(slot(0)).isEqualTo(0xf00d);
        assertThat(ring.tail()).isEqualTo(9);
    }

    @ParameterizedTest
    @EnumSource(value = OverflowStyle.class, names = {"AMD_EVENT_LOG", "AMD_PPR_LOG"})
    void push_amdAfterOverflow_stoppedUntilOverflowClearedAndLogRestarted(OverflowStyle style) {
        MemoryRing ring = ring(style);
        fill(ring);
        assertThat(ring.push(new Rec(0xdead))).isEqualTo(MemoryRing.Push.OVERFLOWED);
        ring.setHead(7);

        assertThat(ring.running()).as("EventLogRun").isFalse();
        assertThat(ring.push(new Rec(1))).isEqualTo(MemoryRing.Push.LOST_STOPPED);
        ring.acknowledgeOverflow();
        assertThat(ring.push(new Rec(2))).as("overflow cleared, log not restarted")
                .isEqualTo(MemoryRing.Push.LOST_STOPPED);
        ring.stop();
        ring.restart();
        assertThat(ring.push(new Rec(3))).isEqualTo(MemoryRing.Push.WRITTEN);
        assertThat(slot(7)).isEqualTo(3);
    }

    @Test
    void push_amdRestartedWithOverflowStillSet_nothingWritten() {
        MemoryRing ring = ring(OverflowStyle.AMD_EVENT_LOG);
        fill(ring);
        ring.push(new Rec(0xdead));
        ring.setHead(7);
        ring.restart();

        assertThat(ring.push(new Rec(1))).isEqualTo(MemoryRing.Push.LOST_OVERFLOW_PENDING);
        assertThat(slot(7)).isZero();
    }

    @Test
    void push_slotOutsideMemory_writeFaultNothingWritten() {
        MemoryRing ring = new MemoryRing(memory, OverflowStyle.RISCV_FAULT_QUEUE, ENTRY);
        ring.setBase(memory.size() - ENTRY, LOG2);
        ring.push(new Rec(1));

        assertThat(ring.push(new Rec(2))).isEqualTo(MemoryRing.Push.WRITE_FAULT);
        assertThat(ring.tail()).isEqualTo(1);
        assertThat(ring.overflowPending()).isFalse();
    }

    @Test
    void push_commandQueue_refused() {
        MemoryRing ring = ring(OverflowStyle.COMMAND_QUEUE);

        assertThatThrownBy(() -> ring.push(new Rec(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void advanceHead_commandQueue_consumesUntilEmpty() {
        MemoryRing ring = ring(OverflowStyle.COMMAND_QUEUE);
        ring.setHead(6);
        ring.setTail(1);

        assertThat(ring.count()).isEqualTo(3);
        ring.advanceHead();
        ring.advanceHead();
        assertThat(ring.head()).isZero();
        assertThat(ring.slotAddress(ring.head())).isEqualTo(BASE);
        ring.advanceHead();
        assertThat(ring.isEmpty()).isTrue();
    }

    @Test
    void setHead_bitsAboveIndex_dropped() {
        MemoryRing plain = ring(OverflowStyle.RISCV_PAGE_REQUEST_QUEUE);
        MemoryRing wrapped = ring(OverflowStyle.SMMUV3_PRI_QUEUE);

        plain.setHead(0x1_0000_000dL);
        wrapped.setHead(0x1_0000_000dL);

        assertThat(plain.head()).isEqualTo(5);
        assertThat(wrapped.head()).isEqualTo(13);
    }

    @Test
    void writeOverflowAck_stickyStyle_refused() {
        MemoryRing ring = ring(OverflowStyle.RISCV_FAULT_QUEUE);

        assertThatThrownBy(() -> ring.writeOverflowAck(true)).isInstanceOf(IllegalStateException.class);
    }

    @ParameterizedTest
    @EnumSource(OverflowStyle.class)
    void responseToLost_lastRequestStopMarkerAndPartial_onlyLastOfAnsweringStylesAnswered(OverflowStyle style) {
        PageRequestMessage last = new PageRequestMessage(0x10, true, 1, false, false, true, false, true, 3, 0x1000);
        PageRequestMessage partial = new PageRequestMessage(0x10, true, 1, false, false, true, false, false, 3, 0x1000);
        PageRequestMessage stop = new PageRequestMessage(0x10, true, 1, false, false, false, false, true, 3, 0);
        boolean answers = EnumSet.of(OverflowStyle.VTD_PAGE_REQUEST_QUEUE, OverflowStyle.RISCV_PAGE_REQUEST_QUEUE,
                OverflowStyle.SMMUV3_PRI_QUEUE).contains(style);

        assertThat(style.responseToLost(last)).isEqualTo(answers ? PrgResponseCode.SUCCESS : null);
        assertThat(style.responseToLost(partial)).isNull();
        assertThat(style.responseToLost(stop)).isNull();
    }

    @Test
    void overflowStyles_onlySmmuEventQueueWritesWhilePendingOnlyAmdStops() {
        assertThat(EnumSet.allOf(OverflowStyle.class).stream().filter(s -> s.rule().writesWhilePending()))
                .containsExactly(OverflowStyle.SMMUV3_EVENT_QUEUE);
        assertThat(EnumSet.allOf(OverflowStyle.class).stream().filter(s -> s.rule().stopsOnOverflow()))
                .containsExactly(OverflowStyle.AMD_EVENT_LOG, OverflowStyle.AMD_PPR_LOG);
        assertThat(logs()).allSatisfy(s -> assertThat(s.rule().indicator()).isEqualTo(s.name().startsWith("SMMUV3")
                ? OverflowStyle.Indicator.TOGGLE : OverflowStyle.Indicator.STICKY));
    }
}
