package dev.iommulab.vfio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The vIOMMU event queue byte for byte: iommufd_veventq_alloc(), iommufd_veventq_fops_read() with
 * iommufd_veventq_deliver_fetch()/restore() and iommufd_eventq_fops_poll() (drivers/iommu/iommufd/eventq.c),
 * iommufd_viommu_report_event() (driver.c) and iommufd_vevent_handler() (iommufd_private.h); reference
 * linux-fault-stack.md §5.8.
 */
class IommufdVeventqTest {

    private static final int SMMU = IommufdVeventq.TYPE_ARM_SMMUV3;
    private static final int LOST = IommufdVeventq.FLAG_LOST_EVENTS;
    private static final int READABLE = IommufdFault.POLLIN | IommufdFault.POLLRDNORM;

    private final IommufdVeventq.Veventqs viommu = new IommufdVeventq.Veventqs();

    /** A 32-byte struct iommu_vevent_arm_smmuv3 whose four little-endian words are tag.0 .. tag.3. */
    private static byte[] smmuEvent(int tag) {
        ByteBuffer b = ByteBuffer.allocate(IommufdVeventq.ARM_SMMUV3_EVENT_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 4; i++) {
            b.putLong(((long) tag << 32) | i);
        }
        return b.array();
    }

    /** What read() must return: for each entry an 8-byte LE header {flags, sequence} and the event's data. */
    private static final class Expected {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Expected event(int sequence, byte[] data) {
            return header(0, sequence).data(data);
        }

        Expected lost(int sequence) {
            return header(LOST, sequence);
        }

        private Expected header(int flags, int sequence) {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(flags).putInt(sequence)
                    .array());
            return this;
        }

        private Expected data(byte[] data) {
            out.writeBytes(data);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    private static KernelException thrown(ThrowingCallable call) {
        return catchThrowableOfType(KernelException.class, call);
    }

    private static void report(IommufdVeventq q, int... tags) {
        for (int tag : tags) {
            assertThat(q.reportEvent(smmuEvent(tag))).isZero();
        }
    }

    /** iommufd_veventq_alloc(): flags and type DEFAULT are EOPNOTSUPP before depth 0 is EINVAL; depth is a u32. */
    @Test
    @DisplayName("linux-fault-stack §5.8: IOMMU_VEVENTQ_ALLOC argument checks")
    void alloc_badArguments_eopnotsuppBeforeEinval() {
        KernelException flags = thrown(() -> viommu.alloc(1, SMMU, 0));
        KernelException type = thrown(() -> viommu.alloc(0, IommufdVeventq.TYPE_DEFAULT, 8));
        KernelException depth = thrown(() -> viommu.alloc(0, SMMU, 0));

        assertThat(flags.errno()).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(flags.argument()).isEqualTo("flags");
        assertThat(type.errno()).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(type.argument()).isEqualTo("type");
        assertThat(depth.errno()).isEqualTo(Errno.EINVAL);
        assertThat(depth.argument()).isEqualTo("veventq_depth");
        assertThat(thrown(() -> new IommufdVeventq(SMMU, 0)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(viommu.find(SMMU)).isEmpty();
        assertThat(viommu.alloc(0, SMMU, -1).depth()).isEqualTo(0xffff_ffffL);
    }

    /** iommufd_veventq_alloc(): one queue per (vIOMMU, type), EEXIST; iommufd_veventq_destroy() frees the type. */
    @Test
    @DisplayName("linux-fault-stack §5.8: one vEVENTQ per type on a vIOMMU")
    void alloc_secondQueueOfSameType_eexistUntilDestroyed() {
        IommufdVeventq first = viommu.alloc(0, SMMU, 4);
        IommufdVeventq tegra = viommu.alloc(0, IommufdVeventq.TYPE_TEGRA241_CMDQV, 4);

        KernelException again = thrown(() -> viommu.alloc(0, SMMU, 16));

        assertThat(again.errno()).isEqualTo(Errno.EEXIST);
        assertThat(viommu.find(SMMU)).containsSame(first);
        assertThat(viommu.find(IommufdVeventq.TYPE_TEGRA241_CMDQV)).containsSame(tegra);
        viommu.reportEvent(SMMU, smmuEvent(1));
        viommu.destroy(first);
        assertThat(first.queuedEvents()).isZero();
        assertThat(first.poll()).isZero();
        assertThat(thrown(() -> viommu.reportEvent(SMMU, smmuEvent(2))).errno()).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(viommu.alloc(0, SMMU, 16).depth()).isEqualTo(16);
    }

    /** iommufd_viommu_report_event(): empty data EINVAL (WARN_ON_ONCE); no queue of the type EOPNOTSUPP. */
    @Test
    @DisplayName("linux-fault-stack §5.8: report_event argument checks")
    void reportEvent_emptyWrongSizeOrNoQueue_rejectedAndNothingQueued() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 4);

        assertThat(thrown(() -> q.reportEvent(new byte[0])).errno()).isEqualTo(Errno.EINVAL);
        assertThat(thrown(() -> q.reportEvent(new byte[31])).errno()).isEqualTo(Errno.EINVAL);
        assertThat(thrown(() -> viommu.reportEvent(IommufdVeventq.TYPE_TEGRA241_CMDQV, new byte[16])).errno())
                .isEqualTo(Errno.EOPNOTSUPP);
        assertThat(thrown(() -> viommu.reportEvent(IommufdVeventq.TYPE_TEGRA241_CMDQV, new byte[0])).errno())
                .as("data is checked before the queue lookup").isEqualTo(Errno.EINVAL);
        assertThat(q.queuedEvents()).isZero();
        assertThat(q.nextSequence()).isZero();
        assertThat(q.read(4096, 0)).isEmpty();
    }

    /** iommufd_veventq_fops_read(): header0 | data0 | header1 | data1 | header2 | data2, sequences 0, 1, 2. */
    @Test
    @DisplayName("linux-fault-stack §5.8: events read back byte-exact with sequence 0, 1, 2")
    void read_threeSmmuEvents_littleEndianHeadersAndDataInOrder() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 8);
        report(q, 10, 11, 12);

        byte[] bytes = q.read(4096, 0);

        assertThat(bytes).hasSize(3 * 40).isEqualTo(new Expected().event(0, smmuEvent(10)).event(1, smmuEvent(11))
                .event(2, smmuEvent(12)).bytes());
        assertThat(q.queuedEvents()).isZero();
        assertThat(q.read(4096, 0)).isEmpty();
    }

    /** A Tegra241 CMDQV queue carries its 16-byte lvcmdq_err_map records the same way. */
    @Test
    @DisplayName("linux-fault-stack §5.8: TEGRA241_CMDQV events are 16 bytes after the header")
    void read_tegraEvent_sixteenBytesAfterHeader() {
        viommu.alloc(0, IommufdVeventq.TYPE_TEGRA241_CMDQV, 2);
        byte[] errMap = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0x5L).putLong(1L << 63).array();

        viommu.reportEvent(IommufdVeventq.TYPE_TEGRA241_CMDQV, errMap);

        IommufdVeventq q = viommu.find(IommufdVeventq.TYPE_TEGRA241_CMDQV).orElseThrow();
        assertThat(q.read(64, 0)).isEqualTo(new Expected().event(0, errMap).bytes());
    }

    /**
     * iommufd_viommu_report_event() at num_events == depth: depth 2, five reports. Two wait; three are dropped,
     * each taking a sequence; one LOST_EVENTS header (no data) ends the queue with the last drop's sequence 4.
     */
    @Test
    @DisplayName("linux-fault-stack §5.8: a full queue drops events and queues exactly one LOST_EVENTS header")
    void reportEvent_fiveIntoDepthTwo_twoEventsThenOneLostHeaderWithSequenceFour() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);

        report(q, 0, 1, 2, 3, 4);

        assertThat(q.queuedEvents()).isEqualTo(2);
        assertThat(q.lostEventsQueued()).isTrue();
        assertThat(q.lostEvents()).isEqualTo(3);
        assertThat(q.nextSequence()).isEqualTo(5);
        assertThat(q.read(4096, 0)).hasSize(2 * 40 + 8)
                .isEqualTo(new Expected().event(0, smmuEvent(0)).event(1, smmuEvent(1)).lost(4).bytes());
        assertThat(q.lostEventsQueued()).isFalse();
        assertThat(q.poll()).isZero();
    }

    /**
     * iommufd_vevent_handler(): a real event queued after a loss replaces the LOST_EVENTS header, and its sequence
     * shows the gap. Depth 2: 0, 1 queued, 2 and 3 dropped; reading 0 frees a slot; 4 is queued. The reader sees
     * sequences 0, 1, 4 and no LOST_EVENTS header: 4 - 1 - 1 = 2 events lost.
     */
    @Test
    @DisplayName("linux-fault-stack §5.8: the next real event's sequence reveals the gap")
    void reportEvent_afterLossAndOneRead_eventReplacesLostHeaderAndSequenceShowsGap() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);
        report(q, 0, 1, 2, 3);
        assertThat(q.read(40, 0)).isEqualTo(new Expected().event(0, smmuEvent(0)).bytes());

        report(q, 4);

        assertThat(q.lostEventsQueued()).isFalse();
        assertThat(q.queuedEvents()).isEqualTo(2);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(1, smmuEvent(1)).event(4, smmuEvent(4)).bytes());
    }

    /**
     * The LOST_EVENTS header is not counted in num_events: depth 1, event 0 then a drop; reading only event 0
     * leaves the header alone in the queue, yet the next report is queued, not dropped.
     */
    @Test
    @DisplayName("linux-fault-stack §5.8: the LOST_EVENTS header takes no slot of the depth")
    void reportEvent_onlyLostHeaderWaiting_nextEventIsQueued() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 1);
        report(q, 0, 1);
        q.read(40, 0);
        assertThat(q.queuedEvents()).isZero();
        assertThat(q.poll()).as("the lone header is readable").isEqualTo(READABLE);

        report(q, 2);

        assertThat(q.lostEvents()).isEqualTo(1);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(2, smmuEvent(2)).bytes());
    }

    /** After a read drains the queue, events queue again and a second loss queues a new LOST_EVENTS header. */
    @Test
    @DisplayName("linux-fault-stack §5.8: after draining, a new loss produces a new LOST_EVENTS header")
    void reportEvent_afterDrainAndNewOverflow_newLostHeaderWithNewSequence() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 1);
        report(q, 0, 1);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(0, smmuEvent(0)).lost(1).bytes());

        report(q, 2, 3, 4);

        assertThat(q.lostEvents()).isEqualTo(3);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(2, smmuEvent(2)).lost(4).bytes());
    }

    /**
     * iommufd_veventq_fops_read() with a small buffer: an event is never split, a short first entry reads 0 bytes
     * (not an error) and stays; the LOST_EVENTS header needs only 8 bytes; a read stops before an entry that does
     * not fit in what is left.
     */
    @Test
    @DisplayName("linux-fault-stack §5.8: small buffers read whole entries or nothing")
    void read_bufferTooSmall_returnsWholeEntriesOnlyAndKeepsTheRest() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);
        report(q, 0, 1, 2);

        assertThat(q.read(0, 0)).isEmpty();
        assertThat(q.read(39, 0)).isEmpty();
        assertThat(q.queuedEvents()).isEqualTo(2);
        assertThat(q.read(79, 0)).isEqualTo(new Expected().event(0, smmuEvent(0)).bytes());
        assertThat(q.read(40 + 7, 0)).isEqualTo(new Expected().event(1, smmuEvent(1)).bytes());
        assertThat(q.lostEventsQueued()).isTrue();
        assertThat(q.read(7, 0)).isEmpty();
        assertThat(q.read(8, 0)).isEqualTo(new Expected().lost(2).bytes());
        assertThat(q.poll()).isZero();
    }

    /** iommufd_veventq_fops_read(): a non-zero position is ESPIPE; a negative count EINVAL (rw_verify_area()). */
    @Test
    @DisplayName("linux-fault-stack §5.8: the vEVENTQ file has no position")
    void read_nonZeroPosition_espipeAndNothingConsumed() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);
        report(q, 0);

        KernelException pos = thrown(() -> q.read(4096, 40));

        assertThat(pos.errno()).isEqualTo(Errno.ESPIPE);
        assertThat(pos.argument()).isEqualTo("pos");
        assertThat(thrown(() -> q.read(-1, 0)).errno()).isEqualTo(Errno.EINVAL);
        assertThat(q.queuedEvents()).isEqualTo(1);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(0, smmuEvent(0)).bytes());
    }

    /** iommufd_eventq_fops_poll(): a vEVENTQ is never writable; readable exactly while something waits. */
    @Test
    @DisplayName("linux-fault-stack §5.8: poll before and after reading")
    void poll_beforeAndAfterRead_readableOnlyWhileEventsWaitNeverWritable() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);
        assertThat(q.poll()).isZero();

        report(q, 0);
        assertThat(q.poll()).isEqualTo(READABLE);
        assertThat(q.poll() & IommufdFault.POLLOUT).isZero();

        q.read(4096, 0);
        assertThat(q.poll()).isZero();
    }

    /** iommufd_vevent_handler(): sequence = (sequence + 1) & INT_MAX, so INT_MAX is followed by 0, drops included. */
    @Test
    @DisplayName("linux-fault-stack §5.8: sequence numbers run 0..INT_MAX and wrap to 0")
    void reportEvent_atIntMax_sequenceWrapsToZero() {
        IommufdVeventq q = viommu.alloc(0, SMMU, 2);
        q.presetSequence(Integer.MAX_VALUE - 1);

        report(q, 0, 1, 2, 3);

        assertThat(q.nextSequence()).isEqualTo(2);
        assertThat(q.read(4096, 0)).isEqualTo(new Expected().event(Integer.MAX_VALUE - 1, smmuEvent(0))
                .event(Integer.MAX_VALUE, smmuEvent(1)).lost(1).bytes());
    }
}
