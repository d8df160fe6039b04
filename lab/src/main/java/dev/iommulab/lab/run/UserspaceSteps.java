package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import dev.iommulab.lab.scenario.FaultClose;
import dev.iommulab.lab.scenario.FaultRead;
import dev.iommulab.lab.scenario.FaultWrite;
import dev.iommulab.lab.scenario.IoasMap;
import dev.iommulab.lab.scenario.IoasUnmap;
import dev.iommulab.lab.scenario.IommufdClose;
import dev.iommulab.lab.scenario.StepHandlers;
import dev.iommulab.lab.scenario.VfioAttach;
import dev.iommulab.lab.scenario.VfioBind;
import dev.iommulab.lab.scenario.VfioDetach;
import dev.iommulab.lab.scenario.VfioPasidStop;
import dev.iommulab.lab.scenario.VfioReplace;
import dev.iommulab.lab.scenario.VfioUnbind;
import dev.iommulab.vfio.PgFaultRecord;
import java.util.List;

/**
 * The user-space steps (iommufd / VFIO): the scenario acts as each process's user-space program, through the
 * process's {@link VfioProcess} (its client and what passed through its fault file). Each step leaves a {@code USER}
 * line in the journey.
 */
final class UserspaceSteps implements StepHandlers.Userspace {

    private final Machine machine;
    private final EventLoop loop;

    UserspaceSteps(StepContext ctx) {
        this.machine = ctx.machine;
        this.loop = ctx.loop;
    }

    /** {@code vfio-bind}: VFIO_DEVICE_BIND_IOMMUFD through the process's client. */
    @Override
    public void vfioBind(VfioBind s) {
        int id = machine.userspace(s.process()).bind(device(s.device()));
        trace(s.process(), "VFIO_DEVICE_BIND_IOMMUFD", "%s bound, dev_id %d", s.device(), id);
    }

    /** {@code vfio-unbind}: the VFIO device's unbind by the process that bound it. */
    @Override
    public void vfioUnbind(VfioUnbind s) {
        VfioProcess p = owner(s.device());
        p.unbind(device(s.device()));
        trace(p.name(), "vfio_iommufd_unbind", "%s unbound", s.device());
    }

    /** {@code vfio-attach}: a new HWPT attached at the RID or a PASID. */
    @Override
    public void vfioAttach(VfioAttach s) {
        VfioProcess p = owner(s.device());
        int hwpt = p.attach(device(s.device()), pasid(s.pasid()), s.fault());
        trace(p.name(), "IOMMU_HWPT_ALLOC+attach", "%s %s: HWPT %d%s attached", s.device(), where(s.pasid()),
                hwpt, s.fault() ? " (fault-capable)" : "");
    }

    /** {@code vfio-replace}: a new HWPT replaces the one at the RID or a PASID. */
    @Override
    public void vfioReplace(VfioReplace s) {
        VfioProcess p = owner(s.device());
        int hwpt = p.replace(device(s.device()), pasid(s.pasid()), s.fault());
        trace(p.name(), "iommufd_device_replace", "%s %s: HWPT %d%s replaces the old one", s.device(),
                where(s.pasid()), hwpt, s.fault() ? " (fault-capable)" : "");
    }

    /** {@code vfio-detach}: iommufd_device_detach() and the HWPT destroyed. */
    @Override
    public void vfioDetach(VfioDetach s) {
        VfioProcess p = owner(s.device());
        p.detach(device(s.device()), pasid(s.pasid()));
        trace(p.name(), "iommufd_device_detach", "%s %s detached", s.device(), where(s.pasid()));
    }

    /** {@code ioas-map}: IOMMU_IOAS_MAP now, or registered with the client to map on fault. */
    @Override
    public void ioasMap(IoasMap s) {
        machine.userspace(s.process()).map(s.iova(), s.addr(), s.size(), s.writable(), s.onFault());
        trace(s.process(), s.onFault() ? "map-on-fault" : "IOMMU_IOAS_MAP", "IOVA %#x+%#x -> VA %#x (%s)%s",
                s.iova(), s.size(), s.addr(), s.prot(), s.onFault() ? ", mapped when the device faults" : "");
    }

    /** {@code ioas-unmap}: IOMMU_IOAS_UNMAP. */
    @Override
    public void ioasUnmap(IoasUnmap s) {
        long bytes = machine.userspace(s.process()).unmap(s.iova(), s.size());
        trace(s.process(), "IOMMU_IOAS_UNMAP", "IOVA %#x+%#x: %#x bytes unmapped", s.iova(), s.size(), bytes);
    }

    /** {@code fault-read}: a raw read() of the fault fd. */
    @Override
    public void faultRead(FaultRead s) {
        List<PgFaultRecord> records = machine.userspace(s.process()).read(s.bytes());
        trace(s.process(), "read(fault_fd)", "%d bytes asked, %d record(s) read%s", s.bytes(), records.size(),
                records.isEmpty() ? "" : ", cookies " + records.stream().map(PgFaultRecord::cookie).distinct()
                        .toList());
    }

    /** {@code fault-close}: close() of the fault fd alone. */
    @Override
    public void faultClose(FaultClose s) {
        machine.userspace(s.process()).closeFaultFile();
        trace(s.process(), "close(fault_fd)", "the fault fd is closed; its groups stay owed");
    }

    /** {@code iommufd-close}: close() of the iommufd, releasing every object of the process. */
    @Override
    public void iommufdClose(IommufdClose s) {
        machine.userspace(s.process()).close();
        trace(s.process(), "close(iommufd)", "every iommufd object of the process is released");
    }

    /** {@code fault-write}: {@code cookie: last-read} takes the cookie of the last record read from the file. */
    @Override
    public void faultWrite(FaultWrite s) {
        VfioProcess p = machine.userspace(s.process());
        int cookie = s.cookie() != null ? (int) (long) s.cookie() : p.lastReadCookie();
        int bytes = p.write(cookie, (int) s.code());
        trace(s.process(), "write(fault_fd)", "{cookie %d, code %d}: %d bytes consumed", Integer.toUnsignedLong(cookie),
                s.code(), bytes);
    }

    /**
     * {@code vfio-pasid-stop}: the client's PASID stop with the endpoint's stopPasid; the step only starts it (the
     * next step runs when the machine is idle).
     */
    @Override
    public void vfioPasidStop(VfioPasidStop s) {
        PcieEndpoint ep = machine.endpoint(s.device());
        if (!ep.pasidEnabled()) {
            throw new KernelException(Errno.EINVAL, "device", s.device() + " has no PASID enabled");
        }
        VfioProcess owner = owner(s.device());
        trace(owner.name(), "vfio-pasid-stop", "%s: the client stops PASID %d", s.device(), s.pasid());
        owner.stopPasid(device(s.device()), s.pasid(), ep::stopPasid, () -> trace(owner.name(), "vfio-pasid-stop",
                "%s PASID %d stopped, served and detached", s.device(), s.pasid()));
    }

    private Device device(String name) {
        return machine.device(name);
    }

    private VfioProcess owner(String device) {
        VfioProcess owner = machine.vfioOwner(device);
        if (owner == null) {
            throw new KernelException(Errno.ENOENT, "device", device + " is not bound to any iommufd");
        }
        return owner;
    }

    private static int pasid(Integer pasid) {
        return pasid == null ? IommuCore.IOMMU_NO_PASID : pasid;
    }

    private static String where(Integer pasid) {
        return pasid == null ? "RID" : "PASID " + pasid;
    }

    private void trace(String process, String symbol, String format, Object... args) {
        loop.trace().step(loop.now(), Layer.USER, symbol, process + ": " + String.format(java.util.Locale.ROOT, format,
                args));
    }
}
