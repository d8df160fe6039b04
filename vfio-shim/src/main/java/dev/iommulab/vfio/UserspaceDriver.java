package dev.iommulab.vfio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A user-space driver (a VMM or a DPDK-style driver) serving its devices' page faults through iommufd: it binds
 * devices to its context, maps buffers into one IOAS, attaches fault-capable HWPTs and, whenever the fault file
 * wakes it, reads whole groups and answers them by cookie as its {@link Policy} says — resolving a fault by pinning
 * and mapping the page of a buffer it registered with {@link #mapOnFault}. Before detaching a PASID it stops the
 * device's use of it and answers what is outstanding ({@link #stopPasid}). Runs on the simulation's event loop:
 * waking takes {@code threadWakeNs}, each page it maps {@code handleMmFaultNs}.
 */
public final class UserspaceDriver {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    /** How user space answers the groups it reads (scenario policy {@code vfio.user-response}). */
    public enum Policy {
        /** Map the faulting pages of registered buffers and answer SUCCESS; INVALID when a page cannot be served. */
        RESOLVE_AND_SUCCEED("resolve-and-succeed"),
        /** Answer every group INVALID. */
        ALWAYS_INVALID("always-invalid"),
        /** Read but never answer: groups wait until a detach, replace or destroy answers them. */
        NEVER("never");

        private final String label;

        Policy(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Optional<Policy> fromLabel(String label) {
            return Arrays.stream(values()).filter(p -> p.label.equals(label)).findFirst();
        }
    }

    /** The device side of stopping a PASID (device-specific MMIO from user space), e.g. {@code PcieEndpoint::stopPasid}. */
    @FunctionalInterface
    public interface PasidStopper {
        void stopPasid(int pasid, Runnable stopped);
    }

    /** What the driver did, for reports and tests. */
    public record Stats(int groupsRead, int success, int invalid, int rejected, int tooSmall) {
    }

    private record Buffer(long userVa, long length, boolean writable) {
    }

    private final Iommufd iommufd;
    private final MmStruct mm;
    private final EventLoop loop;
    private final TimingModel timing;
    private final Policy policy;
    private final int readBytes;
    private final Map<Device, Integer> devIds = new LinkedHashMap<>();
    private final TreeMap<Long, Buffer> onFault = new TreeMap<>();
    private int ioasId;
    private Iommufd.FaultAlloc fault;
    private boolean wakeScheduled;
    private int groupsRead;
    private int success;
    private int invalid;
    private int rejected;
    private int tooSmall;

    /** @param readBytes the read buffer: a multiple of {@link IommufdFault#RECORD_SIZE} */
    public UserspaceDriver(Iommufd iommufd, MmStruct mm, EventLoop loop, TimingModel timing, Policy policy,
                           int readBytes) {
        if (readBytes <= 0 || readBytes % IommufdFault.RECORD_SIZE != 0) {
            throw new IllegalArgumentException("readBytes must be a positive multiple of 40: " + readBytes);
        }
        this.iommufd = Objects.requireNonNull(iommufd, "iommufd");
        this.mm = Objects.requireNonNull(mm, "mm");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.readBytes = readBytes;
    }

    /** Binds {@code dev} to the context; the first device also gets the IOAS and the fault queue. Returns its id. */
    public int bind(Device dev) {
        int devId = iommufd.bindDevice(dev);
        devIds.put(dev, devId);
        if (fault == null) {
            ioasId = iommufd.ioasAlloc();
            fault = iommufd.faultQueueAlloc(0);
            fault.file().setWaiter(this::wake);
        }
        return devId;
    }

    /**
     * Allocates a PASID-compatible paging HWPT on the IOAS (fault-capable when {@code faultCapable}) and attaches it
     * at {@code pasid} of {@code dev} ({@link IommuCore#IOMMU_NO_PASID}: the RID). Returns the HWPT id.
     */
    public int attach(Device dev, int pasid, boolean faultCapable) {
        int devId = devId(dev);
        int flags = Iommufd.HWPT_ALLOC_PASID | (faultCapable ? Iommufd.HWPT_FAULT_ID_VALID : 0);
        int hwpt = iommufd.hwptAlloc(devId, ioasId, flags, faultCapable ? fault.faultId() : 0, null);
        try {
            iommufd.attach(devId, pasid, hwpt);
        } catch (KernelException e) {
            iommufd.destroy(hwpt);
            throw e;
        }
        return hwpt;
    }

    /** Maps {@code length} bytes of the process at {@code userVa} to {@code iova} now (pinned). */
    public void map(long userVa, long length, long iova, boolean writable) {
        iommufd.ioasMap(ioasId, mm, userVa, length, iova, mapFlags(writable));
    }

    /** Registers a buffer whose pages are mapped only when the device faults on them. */
    public void mapOnFault(long userVa, long length, long iova, boolean writable) {
        if (length <= 0 || ((userVa | length | iova) & (PAGE - 1)) != 0) {
            throw new KernelException(Errno.EINVAL, "length", "buffers are whole pages");
        }
        onFault.put(iova, new Buffer(userVa, length, writable));
    }

    /**
     * Before detaching a PASID (the user-space counterpart of the caller guarantee of iommu_sva_unbind_device(),
     * linux-fault-stack.md §4.2): the device stops using it — {@code stopper} returns once its requests have
     * retired and the Stop Marker is sent — then the fault file is served once more, and then the PASID is
     * detached; {@code done} runs after that.
     */
    public void stopPasid(Device dev, int pasid, PasidStopper stopper, Runnable done) {
        int devId = devId(dev);
        trace("stop PASID %d of %s", pasid, dev.name());
        stopper.stopPasid(pasid, () -> {
            service();
            iommufd.detach(devId, pasid);
            done.run();
        });
    }

    /** The fault file (for inspection and raw reads or writes). */
    public IommufdFault faultFile() {
        return fault == null ? null : fault.file();
    }

    public int devId(Device dev) {
        Integer id = devIds.get(dev);
        if (id == null) {
            throw new KernelException(Errno.ENOENT, "dev", dev + " is not bound by this driver");
        }
        return id;
    }

    public int ioasId() {
        return ioasId;
    }

    /** The fault object's id ({@code out_fault_id}), 0 before the first bind. */
    public int faultId() {
        return fault == null ? 0 : fault.faultId();
    }

    public Stats stats() {
        return new Stats(groupsRead, success, invalid, rejected, tooSmall);
    }

    private void wake() {
        if (!wakeScheduled) {
            wakeScheduled = true;
            loop.schedule(timing.threadWakeNs(), "user fault reader", this::service);
        }
    }

    /**
     * One pass of the reader: read whole groups while the file is readable and answer each (unless the policy is
     * {@link Policy#NEVER}); a group too large for the read buffer stays queued.
     */
    public void service() {
        wakeScheduled = false;
        IommufdFault file = faultFile();
        if (file == null || !file.isOpen()) {
            return;
        }
        while ((file.poll() & IommufdFault.POLLIN) != 0) {
            byte[] got = file.read(readBytes, 0);
            if (got.length == 0) {
                tooSmall++;
                trace("read(%d) returned 0: the next group does not fit", readBytes);
                return;
            }
            Map<Integer, List<PgFaultRecord>> groups = new LinkedHashMap<>();
            for (PgFaultRecord r : PgFaultRecord.decode(got)) {
                groups.computeIfAbsent(r.cookie(), c -> new ArrayList<>()).add(r);
            }
            groupsRead += groups.size();
            trace("read %d bytes: %d group(s), cookies %s", got.length, groups.size(), groups.keySet());
            if (policy != Policy.NEVER) {
                answer(groups);
            }
        }
    }

    private void answer(Map<Integer, List<PgFaultRecord>> groups) {
        List<int[]> answers = new ArrayList<>();
        int mapped = 0;
        for (Map.Entry<Integer, List<PgFaultRecord>> g : groups.entrySet()) {
            boolean ok = policy == Policy.RESOLVE_AND_SUCCEED;
            for (PgFaultRecord r : g.getValue()) {
                if (!ok) {
                    break;
                }
                int result = resolve(r);
                ok = result >= 0;
                mapped += Math.max(result, 0);
            }
            answers.add(new int[] {g.getKey(), ok ? IommufdFault.RESP_SUCCESS : IommufdFault.RESP_INVALID});
        }
        int[][] all = answers.toArray(int[][]::new);
        loop.schedule(mapped * timing.handleMmFaultNs(), "user fault answers", () -> write(all));
    }

    /** Maps the page of {@code r} from a registered buffer: 1 if mapped now, 0 if mapped already, -1 if it cannot. */
    private int resolve(PgFaultRecord r) {
        long page = r.addr() & -PAGE;
        Map.Entry<Long, Buffer> e = onFault.floorEntry(page);
        boolean write = (r.perm() & PgFaultRecord.PERM_WRITE) != 0;
        if (e == null || page >= e.getKey() + e.getValue().length() || write && !e.getValue().writable()) {
            return -1;
        }
        Buffer b = e.getValue();
        try {
            iommufd.ioasMap(ioasId, mm, b.userVa() + (page - e.getKey()), PAGE, page,
                    Iommufd.IOAS_MAP_FIXED_IOVA | mapFlags(b.writable()));
            return 1;
        } catch (KernelException ex) {
            return ex.errno() == Errno.EEXIST ? 0 : -1;
        }
    }

    /** Writes the answers; one the kernel rejects (a cookie answered meanwhile) is skipped and the rest written. */
    private void write(int[][] answers) {
        IommufdFault file = faultFile();
        int at = 0;
        while (at < answers.length && file.isOpen()) {
            int done;
            try {
                done = file.write(PgFaultRecord.encodeResponses(Arrays.copyOfRange(answers, at, answers.length)), 0)
                        / IommufdFault.RESPONSE_SIZE;
            } catch (KernelException e) {
                done = 0;
            }
            for (int i = at; i < at + done; i++) {
                if (answers[i][1] == IommufdFault.RESP_SUCCESS) {
                    success++;
                } else {
                    invalid++;
                }
            }
            at += done;
            if (at < answers.length) {
                rejected++;
                trace("write: the answer for cookie %d was rejected (EINVAL)", answers[at][0]);
                at++;
            }
        }
    }

    private static int mapFlags(boolean writable) {
        return Iommufd.IOAS_MAP_FIXED_IOVA | Iommufd.IOAS_MAP_READABLE | (writable ? Iommufd.IOAS_MAP_WRITEABLE : 0);
    }

    private void trace(String format, Object... args) {
        loop.trace().step(loop.now(), Layer.USER, "iommufd-client", format, args);
    }
}
