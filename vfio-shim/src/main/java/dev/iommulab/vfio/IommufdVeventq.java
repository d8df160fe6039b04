package dev.iommulab.vfio;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * iommufd's vIOMMU event queue ({@code struct iommufd_veventq}, drivers/iommu/iommufd/eventq.c) and its read-only
 * file "[iommufd-viommu-event]". A driver queues events with {@link #reportEvent}; {@link #read} hands them out as
 * an 8-byte little-endian {@code struct iommufd_vevent_header {u32 flags; u32 sequence}} followed by the event data.
 * At most {@code veventq_depth} events wait; a report beyond that is dropped but still consumes a sequence number,
 * and the single {@code lost_events_header} ({@code IOMMU_VEVENTQ_FLAG_LOST_EVENTS}, no data, not counted against
 * the depth) stands at the tail carrying the sequence of the latest drop. A later queued event takes the marker's
 * place, because its own sequence then shows the gap. Sequences count 0..INT_MAX and wrap to 0. Unlike the
 * page-fault object ({@link IommufdFault}) nothing is answered. Reference: linux-fault-stack.md §5.8.
 */
public final class IommufdVeventq {

    /** {@code sizeof(struct iommufd_vevent_header)}. */
    public static final int HEADER_SIZE = 8;
    /** {@code IOMMU_VEVENTQ_FLAG_LOST_EVENTS}. */
    public static final int FLAG_LOST_EVENTS = 1;
    /** {@code IOMMU_VEVENTQ_TYPE_DEFAULT}: reserved, never allocatable. */
    public static final int TYPE_DEFAULT = 0;
    /** {@code IOMMU_VEVENTQ_TYPE_ARM_SMMUV3}. */
    public static final int TYPE_ARM_SMMUV3 = 1;
    /** {@code IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV}. */
    public static final int TYPE_TEGRA241_CMDQV = 2;
    /** {@code sizeof(struct iommu_vevent_arm_smmuv3)}: {@code __aligned_le64 evt[4]}. */
    public static final int ARM_SMMUV3_EVENT_SIZE = 32;
    /** {@code sizeof(struct iommu_vevent_tegra241_cmdqv)}: {@code __aligned_le64 lvcmdq_err_map[2]}. */
    public static final int TEGRA241_CMDQV_EVENT_SIZE = 16;

    /** {@code (sequence + 1) & INT_MAX} in iommufd_vevent_handler(). */
    private static final int SEQUENCE_MASK = Integer.MAX_VALUE;

    /** A queued {@code struct iommufd_vevent}: its header's sequence and its data. */
    private record Vevent(int sequence, byte[] data) {
    }

    private final int type;
    private final long depth;
    private final Deque<Vevent> deliver = new ArrayDeque<>();
    private long numEvents;
    private int sequence;
    /** Whether the lost_events_header is on the deliver list; when it is, it is the last entry. */
    private boolean lostQueued;
    private int lostSequence;
    private long lostEvents;

    /**
     * Counterpart of the argument checks and set-up of iommufd_veventq_alloc() with {@code flags} and
     * {@code __reserved} 0 ({@link Veventqs#alloc} also checks flags and one queue per type).
     *
     * @param type  one of {@code enum iommu_veventq_type}; like the kernel, any type but DEFAULT is accepted
     * @param depth {@code veventq_depth}, a u32: the most events that may wait
     * @throws KernelException EOPNOTSUPP for TYPE_DEFAULT; EINVAL for depth 0
     */
    public IommufdVeventq(int type, int depth) {
        validate(0, type, depth);
        this.type = type;
        this.depth = Integer.toUnsignedLong(depth);
    }

    private static void validate(int flags, int type, int depth) {
        if (flags != 0) {
            throw new KernelException(Errno.EOPNOTSUPP, "flags", "flags must be 0: " + flags);
        }
        if (type == TYPE_DEFAULT) {
            throw new KernelException(Errno.EOPNOTSUPP, "type", "IOMMU_VEVENTQ_TYPE_DEFAULT is reserved");
        }
        if (depth == 0) {
            throw new KernelException(Errno.EINVAL, "veventq_depth", "a vEVENTQ needs a depth of at least 1");
        }
    }

    /**
     * The queueing part of iommufd_viommu_report_event() (drivers/iommu/iommufd/driver.c): below the depth the
     * event is copied and counted; at the depth it is dropped and the lost_events_header moves to the tail with the
     * next sequence. Either way iommufd_vevent_handler() takes one sequence number and readers would be woken. The
     * kernel's allocation-failure path (-ENOMEM, also recorded as lost) does not arise here.
     * <p>
     * The kernel only rejects empty data and trusts the driver's {@code sizeof}; this model also rejects a length
     * other than the uapi struct's for the two known types (a documented lab option). Other types take any length.
     *
     * @return 0, also when the event was dropped: a full queue is not an error to the reporting driver
     * @throws KernelException EINVAL for empty data (the kernel's WARN_ON_ONCE) or a wrong size for the type
     */
    public int reportEvent(byte[] data) {
        checkEventData(type, data);
        if (numEvents == depth) {
            lostEvents++;
            handler(null);
        } else {
            numEvents++;
            handler(data.clone());
        }
        return 0;
    }

    private static void checkEventData(int type, byte[] data) {
        if (data == null || data.length == 0) {
            throw new KernelException(Errno.EINVAL, "data", "a vEVENT needs data");
        }
        int size = eventSize(type);
        if (size > 0 && data.length != size) {
            throw new KernelException(Errno.EINVAL, "data",
                    "type " + type + " events are " + size + " bytes, not " + data.length);
        }
    }

    /** The uapi event struct size of {@code type}, or 0 when this model knows no struct for it. */
    public static int eventSize(int type) {
        return switch (type) {
            case TYPE_ARM_SMMUV3 -> ARM_SMMUV3_EVENT_SIZE;
            case TYPE_TEGRA241_CMDQV -> TEGRA241_CMDQV_EVENT_SIZE;
            default -> 0;
        };
    }

    /** Counterpart of iommufd_vevent_handler(); {@code data} null means the lost_events_header. */
    private void handler(byte[] data) {
        lostQueued = false;
        if (data == null) {
            lostQueued = true;
            lostSequence = sequence;
        } else {
            deliver.addLast(new Vevent(sequence, data));
        }
        sequence = (sequence + 1) & SEQUENCE_MASK;
    }

    /**
     * Counterpart of iommufd_veventq_fops_read(): entries oldest first, each an 8-byte header then its data, while
     * the whole entry fits in what is left of {@code count}; an event is never split. The lost_events_header needs
     * only its 8 bytes and, once read, leaves the queue (iommufd_veventq_deliver_fetch/restore); it does not count
     * against the depth. The kernel tests the data against {@code sizeof(hdr)}, a pointer, which equals the
     * 8-byte header on 64-bit kernels; that is the size used here.
     *
     * @return the bytes read; empty when the first entry does not fit (the kernel returns 0, not an error)
     * @throws KernelException ESPIPE when {@code pos} is not 0; EINVAL for a negative count (rw_verify_area())
     */
    public byte[] read(int count, long pos) {
        if (pos != 0) {
            throw new KernelException(Errno.ESPIPE, "pos", "the vEVENTQ file has no position: " + pos);
        }
        if (count < 0) {
            throw new KernelException(Errno.EINVAL, "count", "negative count " + count);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (!deliver.isEmpty() || lostQueued) {
            int left = count - out.size();
            if (left < HEADER_SIZE) {
                break;
            }
            Vevent cur = deliver.peekFirst();
            if (cur == null) {
                out.writeBytes(header(FLAG_LOST_EVENTS, lostSequence));
                lostQueued = false;
                continue;
            }
            if (HEADER_SIZE + cur.data().length > left) {
                break;
            }
            out.writeBytes(header(0, cur.sequence()));
            out.writeBytes(cur.data());
            deliver.removeFirst();
            numEvents--;
        }
        return out.toByteArray();
    }

    private static byte[] header(int flags, int sequence) {
        return ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN).putInt(flags).putInt(sequence).array();
    }

    /**
     * What iommufd_eventq_fops_poll() (its home is {@link IommufdFault#poll}) answers for a vEVENTQ: never writable
     * (only the fault object gets EPOLLOUT); readable while an event or the lost_events_header waits.
     */
    public int poll() {
        return deliver.isEmpty() && !lostQueued ? 0 : IommufdFault.POLLIN | IommufdFault.POLLRDNORM;
    }

    /** Counterpart of iommufd_veventq_abort(): every waiting event and the lost_events_header are discarded. */
    void abort() {
        deliver.clear();
        numEvents = 0;
        lostQueued = false;
    }

    public int type() {
        return type;
    }

    /** {@code veventq_depth} as the u32 it is. */
    public long depth() {
        return depth;
    }

    /** {@code num_events}: events waiting to be read; the lost_events_header is not one of them. */
    public long queuedEvents() {
        return numEvents;
    }

    /** Whether the lost_events_header waits at the tail. */
    public boolean lostEventsQueued() {
        return lostQueued;
    }

    /** Reports dropped because the queue was full, over the queue's life (a model statistic, not a kernel field). */
    public long lostEvents() {
        return lostEvents;
    }

    /** The sequence the next report will take. */
    public int nextSequence() {
        return sequence;
    }

    /** Test seam: the sequence counter as if {@code next} reports had gone before (0..INT_MAX). */
    void presetSequence(int next) {
        if (next < 0) {
            throw new IllegalArgumentException("sequences run 0..INT_MAX: " + next);
        }
        sequence = next;
    }

    /**
     * The vEVENTQs of one vIOMMU ({@code iommufd_viommu::veventqs}): at most one per type; events are routed by
     * type.
     */
    public static final class Veventqs {

        private final List<IommufdVeventq> queues = new ArrayList<>();

        /**
         * Counterpart of iommufd_veventq_alloc() on this vIOMMU.
         *
         * @throws KernelException EOPNOTSUPP for non-zero flags or TYPE_DEFAULT; EINVAL for depth 0; EEXIST when
         *                         this vIOMMU already has a queue of {@code type}
         */
        public IommufdVeventq alloc(int flags, int type, int depth) {
            validate(flags, type, depth);
            if (find(type).isPresent()) {
                throw new KernelException(Errno.EEXIST, "type", "this vIOMMU already has a type " + type + " vEVENTQ");
            }
            IommufdVeventq q = new IommufdVeventq(type, depth);
            queues.add(q);
            return q;
        }

        /** Counterpart of iommufd_viommu_find_veventq(). */
        public Optional<IommufdVeventq> find(int type) {
            return queues.stream().filter(q -> q.type == type).findFirst();
        }

        /**
         * Counterpart of iommufd_viommu_report_event(): checks the data, finds the queue of {@code type}, queues.
         *
         * @throws KernelException EINVAL for bad data (before the lookup, as in the kernel); EOPNOTSUPP when no
         *                         queue of {@code type} was allocated
         */
        public int reportEvent(int type, byte[] data) {
            checkEventData(type, data);
            return find(type).orElseThrow(() -> new KernelException(Errno.EOPNOTSUPP, "type",
                    "no vEVENTQ of type " + type + " on this vIOMMU")).reportEvent(data);
        }

        /** Counterpart of iommufd_veventq_destroy(): the queue leaves this vIOMMU and its events are discarded. */
        public void destroy(IommufdVeventq queue) {
            Objects.requireNonNull(queue, "queue");
            if (!queues.remove(queue)) {
                throw new KernelException(Errno.ENOENT, "queue", "not a vEVENTQ of this vIOMMU");
            }
            queue.abort();
        }
    }
}
