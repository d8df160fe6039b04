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
import dev.iommulab.lab.scenario.Step;
import dev.iommulab.lab.scenario.VfioAttach;
import dev.iommulab.lab.scenario.VfioBind;
import dev.iommulab.lab.scenario.VfioDetach;
import dev.iommulab.lab.scenario.VfioPasidStop;
import dev.iommulab.lab.scenario.VfioReplace;
import dev.iommulab.lab.scenario.VfioUnbind;
import dev.iommulab.vfio.PgFaultRecord;
import java.util.List;
import java.util.Set;

/**
 * Performs the iommufd / VFIO steps: the scenario acts as each process's user-space program, through the process's
 * {@link VfioProcess} (its iommufd context and client). Each step leaves a {@code USER} line in the journey.
 */
final class VfioSteps {

    /** Step kinds performed here. */
    static final Set<String> KINDS = Set.of("vfio-bind", "vfio-unbind", "vfio-attach", "vfio-replace", "vfio-detach",
            "vfio-pasid-stop", "ioas-map", "ioas-unmap", "fault-read", "fault-write", "fault-close", "iommufd-close");

    private final Machine machine;
    private final EventLoop loop;

    VfioSteps(Machine machine) {
        this.machine = machine;
        this.loop = machine.loop();
    }

    /** Performs {@code step} if it is one of {@link #KINDS}; returns whether it was. */
    boolean execute(Step step) {
        if (step instanceof VfioBind s) {
            int id = machine.userspace(s.process()).bind(device(s.device()));
            trace(s.process(), "VFIO_DEVICE_BIND_IOMMUFD", "%s bound, dev_id %d", s.device(), id);
        } else if (step instanceof VfioUnbind s) {
            VfioProcess p = owner(s.device());
            p.unbind(device(s.device()));
            trace(p.name(), "vfio_iommufd_unbind", "%s unbound", s.device());
        } else if (step instanceof VfioAttach s) {
            VfioProcess p = owner(s.device());
            int hwpt = p.attach(device(s.device()), pasid(s.pasid()), s.fault());
            trace(p.name(), "IOMMU_HWPT_ALLOC+attach", "%s %s: HWPT %d%s attached", s.device(), where(s.pasid()),
                    hwpt, s.fault() ? " (fault-capable)" : "");
        } else if (step instanceof VfioReplace s) {
            VfioProcess p = owner(s.device());
            int hwpt = p.replace(device(s.device()), pasid(s.pasid()), s.fault());
            trace(p.name(), "iommufd_device_replace", "%s %s: HWPT %d%s replaces the old one", s.device(),
                    where(s.pasid()), hwpt, s.fault() ? " (fault-capable)" : "");
        } else if (step instanceof VfioDetach s) {
            VfioProcess p = owner(s.device());
            p.detach(device(s.device()), pasid(s.pasid()));
            trace(p.name(), "iommufd_device_detach", "%s %s detached", s.device(), where(s.pasid()));
        } else if (step instanceof VfioPasidStop s) {
            pasidStop(s);
        } else if (step instanceof IoasMap s) {
            machine.userspace(s.process()).map(s.iova(), s.addr(), s.size(), s.writable(), s.onFault());
            trace(s.process(), s.onFault() ? "map-on-fault" : "IOMMU_IOAS_MAP", "IOVA %#x+%#x -> VA %#x (%s)%s",
                    s.iova(), s.size(), s.addr(), s.prot(), s.onFault() ? ", mapped when the device faults" : "");
        } else if (step instanceof IoasUnmap s) {
            long bytes = machine.userspace(s.process()).unmap(s.iova(), s.size());
            trace(s.process(), "IOMMU_IOAS_UNMAP", "IOVA %#x+%#x: %#x bytes unmapped", s.iova(), s.size(), bytes);
        } else if (step instanceof FaultRead s) {
            List<PgFaultRecord> records = machine.userspace(s.process()).read(s.bytes());
            trace(s.process(), "read(fault_fd)", "%d bytes asked, %d record(s) read%s", s.bytes(), records.size(),
                    records.isEmpty() ? "" : ", cookies " + records.stream().map(PgFaultRecord::cookie).distinct()
                            .toList());
        } else if (step instanceof FaultWrite s) {
            faultWrite(s);
        } else if (step instanceof FaultClose s) {
            machine.userspace(s.process()).closeFaultFile();
            trace(s.process(), "close(fault_fd)", "the fault fd is closed; its groups stay owed");
        } else if (step instanceof IommufdClose s) {
            machine.userspace(s.process()).close();
            trace(s.process(), "close(iommufd)", "every iommufd object of the process is released");
        } else {
            return false;
        }
        return true;
    }

    /** {@code fault-write}: {@code cookie: last-read} takes the cookie of the last record read from the file. */
    private void faultWrite(FaultWrite s) {
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
    private void pasidStop(VfioPasidStop s) {
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
