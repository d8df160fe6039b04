package dev.iommulab.vfio;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * iommufd's page-fault object ({@code struct iommufd_fault}, drivers/iommu/iommufd/eventq.c) and its file
 * "[iommufd-pgfault]": groups accepted by {@link #iopfHandler} wait on the deliver list; {@link #read} hands them
 * out as whole groups of 40-byte little-endian {@code struct iommu_hwpt_pgfault} records, one cookie per group
 * (the lowest free index from 1 in the response table); {@link #write} takes 8-byte
 * {@code struct iommu_hwpt_page_response} answers by cookie. Every group is answered exactly once: by user space,
 * or INVALID by {@link #autoResponse} (detach, replace) or {@link #destroy}. Closing the file alone answers nothing.
 * Reference: linux-fault-stack.md §1.8, §1.9, §5.2-§5.5.
 *
 * <p>Slightly over 300 lines: the file operations (read, write, poll, close) and the object's auto-response and
 * destroy share one response table, kept in one class as eventq.c keeps them.
 */
public final class IommufdFault {

    /** {@code sizeof(struct iommu_hwpt_pgfault)}. */
    public static final int RECORD_SIZE = 40;
    /** {@code sizeof(struct iommu_hwpt_page_response)}. */
    public static final int RESPONSE_SIZE = 8;
    /** {@code IOMMU_PGFAULT_FLAGS_PASID_VALID}. */
    public static final int FLAGS_PASID_VALID = 1;
    /** {@code IOMMU_PGFAULT_FLAGS_LAST_PAGE}. */
    public static final int FLAGS_LAST_PAGE = 1 << 1;
    /** {@code IOMMUFD_PAGE_RESP_SUCCESS}. */
    public static final int RESP_SUCCESS = 0;
    /** {@code IOMMUFD_PAGE_RESP_INVALID}. */
    public static final int RESP_INVALID = 1;
    public static final int POLLIN = 0x001;
    public static final int POLLOUT = 0x004;
    public static final int POLLRDNORM = 0x040;

    /** How groups are answered and released: io-pgfault's iopf_group_response() and iopf_free_group(). */
    public interface Responder {
        void respond(IopfGroup group, PageResponseCode code, ResponseOrigin origin);

        void free(IopfGroup group);

        /**
         * Whether {@code group} is still owed a response. A group answered behind the fault object's back (the core's
         * iopf_queue_remove_device() answers INVALID everything pending) is forgotten: never read, never answered
         * again (the intended semantics of linux-fault-stack.md §3.5).
         */
        default boolean owed(IopfGroup group) {
            return true;
        }
    }

    private final Responder responder;
    private final ToIntFunction<AttachHandle> devIdOf;
    private final Deque<IopfGroup> deliver = new ArrayDeque<>();
    private final TreeMap<Integer, IopfGroup> response = new TreeMap<>();
    private Runnable release = () -> { };
    private Runnable waiter = () -> { };
    private Observer observer = new Observer() { };
    private boolean closed;

    /**
     * @param devIdOf the iommufd device id of the attachment a group was routed to (the {@code idev} of
     *                {@code struct iommufd_attach_handle})
     */
    public IommufdFault(Responder responder, ToIntFunction<AttachHandle> devIdOf) {
        this.responder = Objects.requireNonNull(responder, "responder");
        this.devIdOf = Objects.requireNonNull(devIdOf, "devIdOf");
    }

    /**
     * Sees what passes through the file, for tools that watch user space (the lab's report). Called after the
     * file's state changed; it must not call back into the file.
     */
    public interface Observer {
        /** read() returned {@code bytes}: whole 40-byte records, possibly none. */
        default void read(byte[] bytes) {
        }

        /**
         * write() of {@code data} consumed the first {@code consumed} bytes; {@code rejected} is why the answer
         * after them was refused (EINVAL, or ESPIPE for the whole write), or null when all were taken.
         */
        default void wrote(byte[] data, int consumed, KernelException rejected) {
        }
    }

    /** Sets the one observer; a new one replaces the old. */
    public void setObserver(Observer observer) {
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    /** What closing the file drops (its references on the fault object and the iommufd context). */
    void onRelease(Runnable dropReferences) {
        this.release = Objects.requireNonNull(dropReferences, "dropReferences");
    }

    /**
     * Counterpart of iommufd_eventq_fops_release(): the file's references go; nothing is answered — groups stay owed
     * until the fault object is destroyed.
     *
     * @throws KernelException EBADF when the file is closed already
     */
    public void close() {
        checkOpen();
        closed = true;
        release.run();
    }

    /** Whether the file is still open. */
    public boolean isOpen() {
        return !closed;
    }

    private void checkOpen() {
        if (closed) {
            throw new KernelException(Errno.EBADF, "fd", "the fault file is closed");
        }
    }

    /** Drops the groups someone else answered already (see {@link Responder#owed}). */
    private void forgetAnswered() {
        deliver.removeIf(g -> !responder.owed(g));
        response.values().removeIf(g -> !responder.owed(g));
    }

    /** Counterpart of iommufd_fault_iopf_handler(): the group joins the deliver list and the reader is woken. */
    public int iopfHandler(IopfGroup group) {
        deliver.addLast(Objects.requireNonNull(group, "group"));
        waiter.run();
        return 0;
    }

    /**
     * The reader sleeping on the file's wait queue ({@code wake_up_interruptible(&fault->common.wait_queue)}): run
     * each time a group is queued. One waiter; a new one replaces the old.
     */
    public void setWaiter(Runnable wakeUp) {
        this.waiter = Objects.requireNonNull(wakeUp, "wakeUp");
    }

    /**
     * Counterpart of iommufd_fault_fops_read(): whole groups, oldest first, while all their records fit in
     * {@code count} bytes; each read group gets the lowest free cookie and moves to the response table.
     *
     * @return the bytes read; empty when the first group does not fit (a group is never split)
     * @throws KernelException ESPIPE when {@code pos} is not 0 or {@code count} not a multiple of 40; EBADF once
     *                         closed
     */
    public byte[] read(int count, long pos) {
        checkOpen();
        forgetAnswered();
        if (pos != 0) {
            throw new KernelException(Errno.ESPIPE, "pos", "the fault file has no position: " + pos);
        }
        if (count < 0 || count % RECORD_SIZE != 0) {
            throw new KernelException(Errno.ESPIPE, "count", count + " is not a multiple of " + RECORD_SIZE);
        }
        ByteBuffer out = ByteBuffer.allocate(fitting(count)).order(ByteOrder.LITTLE_ENDIAN);
        while (!deliver.isEmpty() && deliver.peekFirst().faultCount() * RECORD_SIZE <= out.remaining()) {
            IopfGroup group = deliver.removeFirst();
            int cookie = lowestFreeCookie();
            response.put(cookie, group);
            int devId = devIdOf.applyAsInt(group.attachHandle());
            for (IommuFault f : group.faults()) {
                putRecord(out, f, devId, cookie);
            }
        }
        byte[] bytes = new byte[out.position()];
        out.flip().get(bytes);
        observer.read(bytes);
        return bytes;
    }

    /**
     * The bytes of the groups at the head of the deliver list that fit in {@code count}: what a read copies out, so
     * the buffer is as large as that and not as {@code count} (a user buffer of any size).
     */
    private int fitting(int count) {
        long bytes = 0;
        for (IopfGroup group : deliver) {
            long next = bytes + (long) group.faultCount() * RECORD_SIZE;
            if (next > count) {
                break;
            }
            bytes = next;
        }
        return (int) bytes;
    }

    private static void putRecord(ByteBuffer out, IommuFault f, int devId, int cookie) {
        out.putInt(f.flags()).putInt(devId).putInt(f.pasid()).putInt(f.grpid()).putInt(f.perm()).putInt(0)
                .putLong(f.addr()).putInt(0).putInt(cookie);
    }

    private int lowestFreeCookie() {
        int cookie = 1;
        for (int used : response.keySet()) {
            if (used != cookie) {
                break;
            }
            cookie++;
        }
        return cookie;
    }

    /**
     * Counterpart of iommufd_fault_fops_write(): 8-byte {cookie, code} answers in order; each known cookie with
     * code SUCCESS or INVALID answers its group once (origin iommufd) and frees it; the first bad one stops.
     *
     * @return the bytes consumed
     * @throws KernelException ESPIPE for a position or a length that is not a multiple of 8; EINVAL when the first
     *                         answer already has an unknown cookie or a code other than SUCCESS/INVALID; EBADF
     *                         once closed
     */
    public int write(byte[] data, long pos) {
        checkOpen();
        forgetAnswered();
        if (pos != 0) {
            throw new KernelException(Errno.ESPIPE, "pos", "the fault file has no position: " + pos);
        }
        if (data.length % RESPONSE_SIZE != 0) {
            KernelException bad = new KernelException(Errno.ESPIPE, "count", data.length + " is not a multiple of "
                    + RESPONSE_SIZE);
            observer.wrote(data, 0, bad);
            throw bad;
        }
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        int done = 0;
        while (in.remaining() >= RESPONSE_SIZE) {
            int cookie = in.getInt();
            int code = in.getInt();
            KernelException bad = code != RESP_SUCCESS && code != RESP_INVALID
                    ? new KernelException(Errno.EINVAL, "code", "response code " + code + " is not SUCCESS or INVALID")
                    : !response.containsKey(cookie)
                    ? new KernelException(Errno.EINVAL, "cookie", "no group has cookie " + cookie) : null;
            if (bad != null) {
                observer.wrote(data, done, bad);
                if (done == 0) {
                    throw bad;
                }
                return done;
            }
            IopfGroup group = response.remove(cookie);
            responder.respond(group, code == RESP_SUCCESS ? PageResponseCode.SUCCESS : PageResponseCode.INVALID,
                    ResponseOrigin.IOMMUFD);
            responder.free(group);
            done += RESPONSE_SIZE;
        }
        observer.wrote(data, done, null);
        return done;
    }

    /** Counterpart of iommufd_eventq_fops_poll(): always writable; readable while a group waits to be read. */
    public int poll() {
        checkOpen();
        forgetAnswered();
        return POLLOUT | (deliver.isEmpty() ? 0 : POLLIN | POLLRDNORM);
    }

    /**
     * Counterpart of iommufd_auto_response_faults(): every group of attachment {@code handle}, unread or read but
     * unanswered, is answered INVALID (origin auto-response) and freed; other attachments' groups stay.
     *
     * @return how many groups were answered
     */
    public int autoResponse(AttachHandle handle) {
        return answerAll(g -> g.attachHandle() == handle);
    }

    /** Counterpart of iommufd_fault_destroy(): every group still held is answered INVALID and freed. */
    public int destroy() {
        return answerAll(g -> true);
    }

    private int answerAll(Predicate<IopfGroup> which) {
        forgetAnswered();
        List<IopfGroup> victims = new ArrayList<>();
        deliver.removeIf(g -> which.test(g) && victims.add(g));
        for (int cookie : List.copyOf(response.keySet())) {
            IopfGroup g = response.get(cookie);
            if (which.test(g)) {
                response.remove(cookie);
                victims.add(g);
            }
        }
        for (IopfGroup g : victims) {
            responder.respond(g, PageResponseCode.INVALID, ResponseOrigin.AUTO_RESPONSE);
            responder.free(g);
        }
        return victims.size();
    }

    /** Groups waiting to be read. */
    public int undelivered() {
        forgetAnswered();
        return deliver.size();
    }

    /** Groups read and not yet answered (the response table). */
    public int awaitingResponse() {
        forgetAnswered();
        return response.size();
    }

    /** The groups the object holds, unread ones first (oldest first), then read ones by cookie (for inspection). */
    public List<IopfGroup> held() {
        forgetAnswered();
        List<IopfGroup> out = new ArrayList<>(deliver);
        out.addAll(response.values());
        return out;
    }
}
