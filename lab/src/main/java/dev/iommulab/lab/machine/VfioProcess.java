package dev.iommulab.lab.machine;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.PgFaultRecord;
import dev.iommulab.vfio.UserspaceDriver;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One process's user-space view of the IOMMU, as the scenario steps see it: the process's {@link UserspaceDriver} (its
 * client, which owns the iommufd context, the device ids, the HWPT of each attachment and the IOAS ranges, and serves
 * the fault file as the process's {@link UserspaceResponse} says) and what passed through the fault file — every
 * record read and every answer written, by the client or by a scenario step. This class keeps no copy of the
 * client's state: it checks a step's arguments with the lab's messages and delegates.
 * {@link Machine#userspace} creates it on first use.
 */
public final class VfioProcess {

    /** Who read or wrote: the process's client ({@link UserspaceDriver}). */
    public static final String CLIENT = "client";
    /** Who read or wrote: a scenario step (raw {@code read()}/{@code write()} on the fault fd). */
    public static final String STEP = "step";

    /** One {@code struct iommu_hwpt_pgfault} read from the fault file by the {@code read}-th read that returned any. */
    public record RecordRead(long atNs, String by, int read, PgFaultRecord record) {
    }

    /** One {@code struct iommu_hwpt_page_response} the kernel took ({@code error} null) or refused. */
    public record ResponseWritten(long atNs, String by, int cookie, int code, boolean accepted, String error) {
    }

    private final String name;
    private final MmStruct mm;
    private final UserspaceResponse response;
    private final UserspaceDriver driver;
    private final FaultFileLog log;
    private boolean observing;

    VfioProcess(String name, MmStruct mm, EventLoop loop, UserspaceResponse response, UserspaceDriver driver) {
        this.name = Objects.requireNonNull(name, "name");
        this.mm = Objects.requireNonNull(mm, "mm");
        this.response = Objects.requireNonNull(response, "response");
        this.driver = Objects.requireNonNull(driver, "driver");
        this.log = new FaultFileLog(loop);
    }

    /**
     * VFIO_DEVICE_BIND_IOMMUFD through the client: the first device also gets the IOAS and the fault queue (whose
     * file is then watched; in {@link UserspaceResponse#MANUAL} mode nobody is woken by it).
     *
     * @return the device id
     */
    public int bind(Device dev) {
        int id = driver.bind(dev);
        IommufdFault file = driver.faultFile();
        if (!observing && file != null) {
            file.setObserver(log);
            if (response.manual()) {
                file.setWaiter(() -> { });
            }
            observing = true;
        }
        return id;
    }

    /**
     * The VFIO device's unbind: every PASID and the RID are detached (answering their outstanding groups INVALID),
     * then the HWPTs the process allocated for the device are destroyed.
     */
    public void unbind(Device dev) {
        devId(dev);
        driver.unbind(dev);
    }

    /**
     * A new PASID-compatible paging HWPT on the IOAS ({@code IOMMU_HWPT_ALLOC_PASID}, with the fault object when
     * {@code faultCapable}) attached at {@code pasid} ({@code IOMMU_NO_PASID}: the RID).
     *
     * @return the HWPT id
     */
    public int attach(Device dev, int pasid, boolean faultCapable) {
        devId(dev);
        return driver.attach(dev, pasid, faultCapable);
    }

    /**
     * A new HWPT (as {@link #attach}) replaces the one at {@code pasid} (iommufd_device_replace(): the old
     * attachment's outstanding groups are answered INVALID, or stay queued under
     * {@link Iommufd.ReplaceAutoResponse#LEGACY_2025}), and the old HWPT is destroyed.
     *
     * @return the new HWPT id
     */
    public int replace(Device dev, int pasid, boolean faultCapable) {
        devId(dev);
        return driver.replace(dev, pasid, faultCapable);
    }

    /** iommufd_device_detach() at {@code pasid}, then IOMMU_DESTROY of the HWPT that was there. */
    public void detach(Device dev, int pasid) {
        devId(dev);
        driver.detach(dev, pasid);
    }

    /**
     * The client stops the device's use of {@code pasid} ({@link UserspaceDriver#stopPasid}: the device stops, the
     * fault file is served once more, the PASID is detached and its HWPT destroyed); then {@code done} runs.
     *
     * @throws KernelException EINVAL when nothing is attached at {@code pasid}; nothing is started then
     */
    public void stopPasid(Device dev, int pasid, UserspaceDriver.PasidStopper stopper, Runnable done) {
        devId(dev);
        driver.stopPasid(dev, pasid, stopper, done);
    }

    /**
     * IOMMU_IOAS_MAP of {@code length} bytes at {@code userVa} to {@code iova}, pinned now; with {@code onFault}
     * only registered with the client, which maps a page when the device faults on it.
     */
    public void map(long iova, long userVa, long length, boolean writable, boolean onFault) {
        requireIoas();
        if (onFault) {
            driver.mapOnFault(userVa, length, iova, writable);
        } else {
            driver.map(userVa, length, iova, writable);
        }
    }

    /** IOMMU_IOAS_UNMAP; returns the bytes unmapped. Buffers registered for mapping on fault stay registered. */
    public long unmap(long iova, long length) {
        requireIoas();
        return driver.unmap(iova, length);
    }

    private void requireIoas() {
        if (driver.ioasId() == 0) {
            throw new KernelException(Errno.EINVAL, "process", name + " has no IOAS yet: vfio-bind a device first");
        }
    }

    /** A raw {@code read(fault_fd, buf, count)} with position 0; the records read. */
    public List<PgFaultRecord> read(int count) {
        IommufdFault file = file();
        log.by(STEP);
        try {
            return PgFaultRecord.decode(file.read(count, 0));
        } finally {
            log.by(CLIENT);
        }
    }

    /** A raw {@code write(fault_fd, {cookie, code}, 8)}; returns the bytes consumed. */
    public int write(int cookie, int code) {
        IommufdFault file = file();
        log.by(STEP);
        try {
            return file.write(PgFaultRecord.encodeResponses(new int[][] {{cookie, code}}), 0);
        } finally {
            log.by(CLIENT);
        }
    }

    /** close(fault_fd) alone: nothing is answered. */
    public void closeFaultFile() {
        file().close();
    }

    /** The process closes everything it has open: {@link Iommufd#close()}. */
    public void close() {
        driver.close();
    }

    private IommufdFault file() {
        IommufdFault file = driver.faultFile();
        if (file == null) {
            throw new KernelException(Errno.EBADF, "fd", name + " has no fault fd: vfio-bind a device first");
        }
        return file;
    }

    /** The device id of {@code dev} in this context. @throws KernelException ENOENT when it is not bound here */
    public int devId(Device dev) {
        Integer id = driver.devices().get(dev);
        if (id == null) {
            throw new KernelException(Errno.ENOENT, "device", dev.name() + " is not bound to " + name + "'s iommufd");
        }
        return id;
    }

    /** The id of the HWPT the process attached at {@code pasid} of {@code dev} ({@code IOMMU_NO_PASID}: RID), or 0. */
    public int hwpt(Device dev, int pasid) {
        return driver.hwpt(dev, pasid);
    }

    /** Whether {@code dev} is bound to this context. */
    public boolean binds(Device dev) {
        return driver.devices().containsKey(dev);
    }

    /** Device names and their ids, in bind order. */
    public Map<String, Integer> devices() {
        Map<String, Integer> out = new LinkedHashMap<>();
        driver.devices().forEach((d, id) -> out.put(d.name(), id));
        return Collections.unmodifiableMap(out);
    }

    /** The user VA behind {@code [iova, iova + length)} when one mapping covers it, else -1. */
    public long userVa(long iova, long length) {
        return driver.userVa(iova, length);
    }

    /** The cookie of the last record read, by anyone; 0 before the first read. */
    public int lastReadCookie() {
        return log.lastReadCookie();
    }

    /** Groups waiting to be read. */
    public int unread() {
        IommufdFault file = driver.faultFile();
        return file == null ? 0 : file.undelivered();
    }

    /** Groups read and not answered. */
    public int unanswered() {
        IommufdFault file = driver.faultFile();
        return file == null ? 0 : file.awaitingResponse();
    }

    /** The groups the fault object still holds (none before the first bind). */
    public List<IopfGroup> held() {
        IommufdFault file = driver.faultFile();
        return file == null ? List.of() : file.held();
    }

    /** Whether the fault fd is open. */
    public boolean faultFileOpen() {
        IommufdFault file = driver.faultFile();
        return file != null && file.isOpen();
    }

    /** Whether the process closed its iommufd. */
    public boolean closed() {
        return driver.closed();
    }

    public String name() {
        return name;
    }

    public MmStruct mm() {
        return mm;
    }

    public UserspaceResponse response() {
        return response;
    }

    public Iommufd iommufd() {
        return driver.iommufd();
    }

    public UserspaceDriver driver() {
        return driver;
    }

    /** Every record read from the fault file, in order. */
    public List<RecordRead> records() {
        return log.records();
    }

    /** Every answer written to the fault file, in order. */
    public List<ResponseWritten> responses() {
        return log.responses();
    }
}
