package dev.iommulab.vfio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Labelled;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.Collections;
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
 * waking takes {@code threadWakeNs}, each page it maps {@code handleMmFaultNs}. It is the one owner of what the
 * program holds: its device ids, the HWPT it allocated for each attachment and its IOAS ranges.
 *
 * <p>Slightly over 300 lines because it is that one owner: the state and the calls that change it stay together;
 * reading the fault file is {@link UserspaceFaultReader}.
 */
public final class UserspaceDriver {

    private static final long PAGE = PhysicalMemory.PAGE_SIZE;

    /** How user space answers the groups it reads (scenario policy {@code vfio.user-response}). */
    public enum Policy implements Labelled {
        /** Map the faulting pages of registered buffers and answer SUCCESS; INVALID when a page cannot be served. */
        RESOLVE_AND_SUCCEED,
        /** Answer every group INVALID. */
        ALWAYS_INVALID,
        /** Read but never answer: groups wait until a detach, replace or destroy answers them. */
        NEVER;

        public static Optional<Policy> fromLabel(String label) {
            return Labelled.fromLabel(Policy.class, label);
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

    /** An IOAS range of the program: {@code length} bytes of user memory at {@code userVa} behind {@code iova}. */
    public record Mapping(long iova, long userVa, long length, boolean writable, boolean onFault) {
    }

    private record Attachment(Device dev, int pasid) {
    }

    private final Iommufd iommufd;
    private final MmStruct mm;
    private final EventLoop loop;
    private final TimingModel timing;
    private final Policy policy;
    private final int readBytes;
    private final Map<Device, Integer> devIds = new LinkedHashMap<>();
    private final Map<Attachment, Integer> hwpts = new LinkedHashMap<>();
    private final TreeMap<Long, Mapping> onFault = new TreeMap<>();
    private final List<Mapping> mappings = new ArrayList<>();
    private int ioasId;
    private Iommufd.FaultAlloc fault;
    private boolean closed;
    private UserspaceFaultReader reader;

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
            reader = new UserspaceFaultReader(iommufd, mm, ioasId, onFault, fault.file(), loop, timing, policy,
                    readBytes);
            fault.file().setWaiter(reader::wake);
        }
        return devId;
    }

    /**
     * Allocates a PASID-compatible paging HWPT on the IOAS (fault-capable when {@code faultCapable}) and attaches it
     * at {@code pasid} of {@code dev} ({@link IommuCore#IOMMU_NO_PASID}: the RID). Returns the HWPT id.
     */
    public int attach(Device dev, int pasid, boolean faultCapable) {
        return attachNewHwpt(dev, devId(dev), pasid, faultCapable, false);
    }

    /**
     * A new HWPT (as {@link #attach}) replaces the one at {@code pasid} (iommufd_device_replace()), and the old HWPT
     * is destroyed. Returns the new HWPT id.
     */
    public int replace(Device dev, int pasid, boolean faultCapable) {
        int devId = devId(dev);
        Integer old = attached(dev, pasid);
        int hwpt = attachNewHwpt(dev, devId, pasid, faultCapable, true);
        iommufd.destroy(old);
        return hwpt;
    }

    /** A new HWPT attached at {@code pasid} (or replacing what is there); destroyed again when that fails. */
    private int attachNewHwpt(Device dev, int devId, int pasid, boolean faultCapable, boolean replace) {
        int hwpt = hwptAlloc(devId, faultCapable);
        try {
            if (replace) {
                iommufd.replace(devId, pasid, hwpt);
            } else {
                iommufd.attach(devId, pasid, hwpt);
            }
        } catch (KernelException e) {
            iommufd.destroy(hwpt);
            throw e;
        }
        hwpts.put(new Attachment(dev, pasid), hwpt);
        return hwpt;
    }

    /** iommufd_device_detach() at {@code pasid}, then IOMMU_DESTROY of the HWPT this driver attached there. */
    public void detach(Device dev, int pasid) {
        iommufd.detach(devId(dev), pasid);
        destroyHwpt(dev, pasid);
    }

    /** The device's unbind: its attachments go (iommufd_device_unbind()), then the HWPTs allocated for it. */
    public void unbind(Device dev) {
        iommufd.unbindDevice(devId(dev));
        devIds.remove(dev);
        for (Attachment a : List.copyOf(hwpts.keySet())) {
            if (a.dev() == dev) {
                iommufd.destroy(hwpts.remove(a));
            }
        }
    }

    /** The program closes its iommufd ({@link Iommufd#close()}): every object is released, no device stays bound. */
    public void close() {
        iommufd.close();
        closed = true;
        devIds.clear();
        hwpts.clear();
    }

    private int hwptAlloc(int devId, boolean faultCapable) {
        int flags = Iommufd.HWPT_ALLOC_PASID | (faultCapable ? Iommufd.HWPT_FAULT_ID_VALID : 0);
        return iommufd.hwptAlloc(devId, ioasId, flags, faultCapable ? fault.faultId() : 0, null);
    }

    private Integer attached(Device dev, int pasid) {
        Integer hwpt = hwpts.get(new Attachment(dev, pasid));
        if (hwpt == null) {
            throw new KernelException(Errno.EINVAL, "pasid", "nothing attached at PASID " + pasid + " of " + dev);
        }
        return hwpt;
    }

    private void destroyHwpt(Device dev, int pasid) {
        Integer hwpt = hwpts.remove(new Attachment(dev, pasid));
        if (hwpt != null) {
            iommufd.destroy(hwpt);
        }
    }

    /** Maps {@code length} bytes of the process at {@code userVa} to {@code iova} now (pinned). */
    public void map(long userVa, long length, long iova, boolean writable) {
        iommufd.ioasMap(ioasId, mm, userVa, length, iova, mapFlags(writable));
        mappings.add(new Mapping(iova, userVa, length, writable, false));
    }

    /** Registers a buffer whose pages are mapped only when the device faults on them. */
    public void mapOnFault(long userVa, long length, long iova, boolean writable) {
        if (length <= 0 || ((userVa | length | iova) & (PAGE - 1)) != 0) {
            throw new KernelException(Errno.EINVAL, "length", "buffers are whole pages");
        }
        Mapping m = new Mapping(iova, userVa, length, writable, true);
        onFault.put(iova, m);
        mappings.add(m);
    }

    /** IOMMU_IOAS_UNMAP; returns the bytes unmapped. Buffers registered for mapping on fault stay registered. */
    public long unmap(long iova, long length) {
        long bytes = iommufd.ioasUnmap(ioasId, iova, length);
        mappings.removeIf(m -> !m.onFault() && m.iova() >= iova && m.iova() + m.length() <= iova + length);
        return bytes;
    }

    /** The user VA behind {@code [iova, iova + length)} when one of the program's ranges covers it, else -1. */
    public long userVa(long iova, long length) {
        for (Mapping m : mappings) {
            if (iova >= m.iova() && iova + length <= m.iova() + m.length()) {
                return m.userVa() + (iova - m.iova());
            }
        }
        return -1;
    }

    /**
     * Before detaching a PASID (the user-space counterpart of the caller guarantee of iommu_sva_unbind_device(),
     * linux-fault-stack.md §4.2): the device stops using it — {@code stopper} returns once its requests have
     * retired and the Stop Marker is sent — then the fault file is served once more, and then the PASID is
     * detached; {@code done} runs after that.
     */
    public void stopPasid(Device dev, int pasid, PasidStopper stopper, Runnable done) {
        int devId = devId(dev);
        attached(dev, pasid);
        trace("stop PASID %d of %s", pasid, dev.name());
        stopper.stopPasid(pasid, () -> {
            service();
            iommufd.detach(devId, pasid);
            destroyHwpt(dev, pasid);
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

    /** The bound devices and their ids, in bind order (none after {@link #close}). */
    public Map<Device, Integer> devices() {
        return Collections.unmodifiableMap(devIds);
    }

    /** The id of the HWPT attached at {@code pasid} of {@code dev} ({@code IOMMU_NO_PASID}: RID), or 0. */
    public int hwpt(Device dev, int pasid) {
        return hwpts.getOrDefault(new Attachment(dev, pasid), 0);
    }

    /** Whether the program closed its iommufd. */
    public boolean closed() {
        return closed;
    }

    public Iommufd iommufd() {
        return iommufd;
    }

    public int ioasId() {
        return ioasId;
    }

    /** The fault object's id ({@code out_fault_id}), 0 before the first bind. */
    public int faultId() {
        return fault == null ? 0 : fault.faultId();
    }

    public Stats stats() {
        return reader == null ? new Stats(0, 0, 0, 0, 0) : reader.stats();
    }

    /**
     * One pass of the reader: read whole groups while the file is readable and answer each (unless the policy is
     * {@link Policy#NEVER}); a group too large for the read buffer stays queued.
     */
    public void service() {
        if (reader != null) {
            reader.service();
        }
    }

    static int mapFlags(boolean writable) {
        return Iommufd.IOAS_MAP_FIXED_IOVA | Iommufd.IOAS_MAP_READABLE | (writable ? Iommufd.IOAS_MAP_WRITEABLE : 0);
    }

    private void trace(String format, Object... args) {
        loop.trace().step(loop.now(), Layer.USER, "iommufd-client", format, args);
    }
}
